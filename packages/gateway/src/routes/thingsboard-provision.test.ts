import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';
import { curl as curlTo } from '@civicloop/test-support/thingsboard-http.js';
import { Sealer } from '../auth/secrets.js';
import { tenantKeys } from '../redis/keys.js';

// Firmware that provisions itself over HTTP, with curl as ThingsBoard's provisioning reference
// makes the request: `curl -s -X POST -H "Content-Type: application/json" -d '{...}' "$HOST/api/v1/provision"`.
// A gateway of its own with a low failed-login limit: guessed keys count against the address.
const clock = new MinuteClock();
const warnings: string[] = [];
let gw: TestGateway;
beforeAll(async () => {
  const logger = { level: 'warn', stream: { write: (line: string) => void warnings.push(line) } } as { level: string };
  gw = await startTestGateway({ rateLimitAuthFailuresPerAddress: 4 }, { telemetry: true, now: clock.now, logger });
});
afterAll(async () => {
  await gw?.close();
});

const curl = (method: 'GET' | 'POST', path: string, json?: string) => curlTo(method, `${gw.url}${path}`, json);
const admin = (method: string, path: string, body?: unknown) => inject(gw, method, path, { auth: gw.tenant.secretKey, ...(body ? { body } : {}) });

async function profile(body: Record<string, unknown> = { name: 'Badges, batch 2026-11', kind: 'badge', unitId: 'sanitation' }) {
  const res = await admin('POST', '/v1/provisioning-profiles', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { profile: { id: string; provisionDeviceKey: string }; provisionDeviceSecret: string };
}
/** Everything in Redis but the per-address counts, which a refused guess is meant to write. */
const stored = async () => new Map([...(await snapshotRedis(gw.redis.client))].filter(([key]) => !key.startsWith('cl:rl:')));
const provision = (request: Record<string, unknown>) => curl('POST', '/api/v1/provision', JSON.stringify(request));

describe("ThingsBoard's HTTP provisioning", () => {
  it('registers a device as its profile says, and the token it answers works as the device secret', async () => {
    const { profile: made, provisionDeviceSecret } = await profile();
    expect(made.provisionDeviceKey).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(provisionDeviceSecret).toMatch(/^[A-Za-z0-9]{20}$/);
    const answer = await provision({ deviceName: 'badge-860123456789012', provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret });
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body) as { status: string; credentialsType: string; credentialsValue: string };
    expect(body).toEqual({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: expect.stringMatching(/^cl_dk_/) });

    const devices = (await admin('GET', '/v1/devices')).body as { items: { id: string; name: string; kind: string; unitId?: string }[] };
    const device = devices.items.find((d) => d.name === 'badge-860123456789012');
    expect(device).toMatchObject({ kind: 'badge', unitId: 'sanitation' });
    // The firmware goes on with ThingsBoard's device API, the token in the path.
    expect((await curl('POST', `/api/v1/${body.credentialsValue}/telemetry`, JSON.stringify({ latitude: 23.129, longitude: 113.264 }))).status).toBe(200);
    const state = (await admin('GET', `/v1/devices/${device!.id}/state`)).body as { position: { geometry: { coordinates: number[] } } | null };
    expect(state.position?.geometry.coordinates).toEqual([113.264, 23.129]);
    // The secret is shown once: the listed profile has only its key.
    const listed = (await admin('GET', '/v1/provisioning-profiles')).body as { items: Record<string, unknown>[] };
    expect(listed.items.find((p) => p.id === made.id)).toEqual({ ...made, provisionedDevices: 1 });
    expect(JSON.stringify(listed)).not.toContain(provisionDeviceSecret);
  });

  it('provisions a name once, even when requests for it come together, and makes up a name when none is given', async () => {
    const { profile: made, provisionDeviceSecret } = await profile({ name: 'Trucks', kind: 'vehicle', crs: 'gcj02' });
    const request = { deviceName: 'DTU 7', provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret };
    const answers = (await Promise.all([provision(request), provision(request), provision(request)])).map(
      (a) => JSON.parse(a.body) as { status: string; credentialsValue?: string },
    );
    // One device. A request that came while it was being registered is refused; one after, answered the same.
    const devices = ((await admin('GET', '/v1/devices')).body as { items: { id: string; name: string; crs?: string }[] }).items.filter(
      (d) => d.name === 'DTU 7',
    );
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ crs: 'gcj02' });
    expect(await gw.redis.client.hget(tenantKeys(gw.tenant.id).provisionedNames, 'DTU 7')).toBe(devices[0]!.id);
    const tokens = new Set(answers.filter((a) => a.status === 'SUCCESS').map((a) => a.credentialsValue));
    expect(tokens.size).toBe(1);
    for (const answer of answers) expect(['SUCCESS', 'FAILURE']).toContain(answer.status);

    // Asked again (the answer lost on the way): the same answer, and nothing written.
    const before = await snapshotRedis(gw.redis.client);
    expect(JSON.parse((await provision(request)).body)).toEqual({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: [...tokens][0] });
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
    const kept = tenantKeys(gw.tenant.id).provisionedAnswer('DTU 7');
    expect(await gw.redis.client.pttl(kept)).toBeGreaterThan(0);
    // Not after its credential was rotated, nor by another profile, nor once the answer is no longer kept: ThingsBoard's FAILURE.
    const refused = { status: 'FAILURE', errorMsg: 'The device DTU 7 is present and could not be provisioned once more.' };
    const other = await profile({ name: 'Other trucks', kind: 'vehicle' });
    expect(
      JSON.parse(
        (await provision({ ...request, provisionDeviceKey: other.profile.provisionDeviceKey, provisionDeviceSecret: other.provisionDeviceSecret })).body,
      ),
    ).toEqual(refused);
    const sealed = await gw.redis.client.get(kept);
    expect((await admin('POST', `/v1/devices/${devices[0]!.id}/credentials`)).status).toBe(200);
    expect(JSON.parse((await provision(request)).body)).toEqual(refused);
    expect(sealed).not.toContain([...tokens][0]);
    await gw.redis.client.del(kept);
    expect(JSON.parse((await provision(request)).body)).toEqual(refused);
    // An answer kept under another master key (CIVICLOOP_MASTER_KEY changed within the 10 minutes): as if not kept.
    await gw.redis.client.set(kept, new Sealer('another master key').seal(Buffer.from(JSON.stringify({ profileId: made.id }))), 'PX', 60_000);
    const underAnotherKey = await provision(request);
    expect(underAnotherKey.status).toBe(200);
    expect(JSON.parse(underAnotherKey.body)).toEqual(refused);
    await gw.redis.client.del(kept);

    const unnamed = JSON.parse((await provision({ provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret })).body) as { status: string };
    expect(unnamed.status).toBe('SUCCESS');
    const all = ((await admin('GET', '/v1/devices')).body as { items: { name: string }[] }).items;
    expect(all.filter((d) => /^vehicle-[0-9a-f]{8}$/.test(d.name))).toHaveLength(1);
  });

  it('with check_pre_provisioned_devices, provisions only a device registered beforehand under that name, with a fresh secret', async () => {
    const { profile: made, provisionDeviceSecret } = await profile({
      name: 'DTUs registered by hand',
      kind: 'vehicle',
      unitId: 'sanitation',
      strategy: 'check_pre_provisioned_devices',
    });
    expect(made).toMatchObject({ strategy: 'check_pre_provisioned_devices' });
    const ask = async (deviceName?: string) =>
      JSON.parse((await provision({ ...(deviceName ? { deviceName } : {}), provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret })).body) as {
        status: string;
        errorMsg?: string;
        credentialsValue?: string;
      };
    const register = async (body: Record<string, unknown>) =>
      (await admin('POST', '/v1/devices', body)).body as { device: { id: string }; credential: { password: string } };
    const before = await stored();
    expect(await ask('DTU-0042')).toMatchObject({ status: 'FAILURE', errorMsg: expect.stringContaining('Failed to find pre provisioned device DTU-0042') });
    expect(await ask()).toMatchObject({ status: 'FAILURE', errorMsg: expect.stringContaining('deviceName is needed') });
    // Not of the profile's kind, not of its unit, or two of one name: none is provisioned.
    await register({ kind: 'badge', name: 'DTU-0043', unitId: 'sanitation' });
    await register({ kind: 'vehicle', name: 'DTU-0044', unitId: 'municipal' });
    await register({ kind: 'vehicle', name: 'DTU-0045', unitId: 'sanitation' });
    await register({ kind: 'vehicle', name: 'DTU-0045', unitId: 'sanitation' });
    const refusedAt = await stored();
    for (const name of ['DTU-0043', 'DTU-0044']) expect((await ask(name)).status, name).toBe('FAILURE');
    expect(await ask('DTU-0045')).toMatchObject({ status: 'FAILURE', errorMsg: expect.stringContaining('2 devices are registered as DTU-0045') });
    expect(await stored()).toEqual(refusedAt);
    expect(refusedAt.size).toBeGreaterThan(before.size);

    const { device, credential } = await register({ kind: 'vehicle', name: 'DTU-0042', unitId: 'sanitation' });
    const answer = await ask('DTU-0042');
    expect(answer).toMatchObject({ status: 'SUCCESS', credentialsValue: expect.stringMatching(/^cl_dk_/) });
    expect(answer.credentialsValue).not.toBe(credential.password);
    // The fresh secret is the device's; the one it was registered with no longer is.
    expect((await curl('POST', `/api/v1/${answer.credentialsValue}/telemetry`, JSON.stringify({ latitude: 23.1, longitude: 113.2 }))).status).toBe(200);
    expect((await curl('POST', `/api/v1/${credential.password}/telemetry`, JSON.stringify({ latitude: 23.1, longitude: 113.2 }))).status).toBe(401);
    expect(await gw.redis.client.hget(tenantKeys(gw.tenant.id).provisionedNames, 'DTU-0042')).toBe(device.id);
    expect((await admin('GET', `/v1/devices?provisionedBy=${made.id}`)).body).toMatchObject({ items: [{ id: device.id, provisionedBy: made.id }] });
    const listed = ((await admin('GET', '/v1/provisioning-profiles')).body as { items: { id: string }[] }).items;
    expect(listed.find((p) => p.id === made.id)).toMatchObject({ provisionedDevices: 1 });
    // Asked again: the same answer while it is kept, then ThingsBoard's FAILURE.
    expect(await ask('DTU-0042')).toMatchObject({ status: 'SUCCESS', credentialsValue: answer.credentialsValue });
    await gw.redis.client.del(tenantKeys(gw.tenant.id).provisionedAnswer('DTU-0042'));
    expect(await ask('DTU-0042')).toMatchObject({ status: 'FAILURE', errorMsg: expect.stringContaining('could not be provisioned once more') });
  });

  it("provisions no more than a profile's maxDevices, even when requests race for the last places, until an admin raises it", async () => {
    const { profile: made, provisionDeviceSecret } = await profile({ name: 'Badges, batch of 3', kind: 'badge', maxDevices: 3 });
    expect(made).toMatchObject({ maxDevices: 3, provisionedDevices: 0 });
    const ask = async (deviceName: string) =>
      JSON.parse((await provision({ deviceName, provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret })).body) as {
        status: string;
        errorMsg?: string;
        credentialsValue?: string;
      };
    const names = ['B-1', 'B-2', 'B-3', 'B-4', 'B-5', 'B-6'];
    const answers = await Promise.all(names.map(ask));
    const provisioned = names.filter((_, i) => answers[i]!.status === 'SUCCESS');
    expect(provisioned).toHaveLength(3);
    for (const answer of answers.filter((a) => a.status !== 'SUCCESS'))
      expect(answer).toEqual({ status: 'FAILURE', errorMsg: 'Provisioning profile Badges, batch of 3 has provisioned its limit of 3 devices.' });
    const listed = ((await admin('GET', `/v1/devices?provisionedBy=${made.id}`)).body as { items: { name: string; provisionedBy: string }[] }).items;
    expect(listed.map((d) => d.name).sort()).toEqual(provisioned.sort());
    const shown = async () => ((await admin('GET', '/v1/provisioning-profiles')).body as { items: { id: string }[] }).items.find((p) => p.id === made.id);
    expect(await shown()).toMatchObject({ maxDevices: 3, provisionedDevices: 3 });
    // Warned, as a copy of the secret at work looks like this.
    expect(warnings.filter((line) => line.includes('the profile has provisioned its maxDevices') && line.includes(made.id))).toHaveLength(3);

    // Refused at the limit, nothing written; one provisioned, asked again, is still answered the same.
    const unprovisioned = names.find((name) => !provisioned.includes(name))!;
    const before = await stored();
    expect((await ask(unprovisioned)).status).toBe('FAILURE');
    const first = answers[names.indexOf(provisioned[0]!)]!;
    expect(await ask(provisioned[0]!)).toEqual(first);
    expect(await stored()).toEqual(before);

    // Raised by one, then lifted: one more, then any number.
    expect((await admin('PATCH', `/v1/provisioning-profiles/${made.id}`, { maxDevices: 4 })).body).toMatchObject({ maxDevices: 4, provisionedDevices: 3 });
    expect((await ask(unprovisioned)).status).toBe('SUCCESS');
    expect((await ask('B-7')).status).toBe('FAILURE');
    const lifted = (await admin('PATCH', `/v1/provisioning-profiles/${made.id}`, { maxDevices: null, name: 'Badges, any number' })).body;
    expect(lifted).toMatchObject({ name: 'Badges, any number', provisionedDevices: 4 });
    expect(lifted).not.toHaveProperty('maxDevices');
    expect((await ask('B-7')).status).toBe('SUCCESS');
    expect(await shown()).toMatchObject({ provisionedDevices: 5 });
    // A limit below the count refuses every further device; a limit that is no positive whole number, or nothing to change, is refused.
    expect((await admin('PATCH', `/v1/provisioning-profiles/${made.id}`, { maxDevices: 2 })).status).toBe(200);
    expect((await ask('B-8')).errorMsg).toContain('limit of 2 devices');
    const unchanged = await stored();
    for (const body of [{ maxDevices: 0 }, { maxDevices: 2.5 }, { maxDevices: '9' }, {}, { kind: 'vehicle' }]) {
      expect((await admin('PATCH', `/v1/provisioning-profiles/${made.id}`, body)).body, JSON.stringify(body)).toMatchObject({
        error: { code: 'CL_ERR_VALIDATION' },
      });
    }
    expect((await admin('PATCH', '/v1/provisioning-profiles/pp_none', { maxDevices: 9 })).body).toMatchObject({ error: { code: 'CL_ERR_NOT_FOUND' } });
    expect((await admin('POST', '/v1/provisioning-profiles', { name: 'x', kind: 'badge', maxDevices: 0 })).body).toMatchObject({
      error: { code: 'CL_ERR_VALIDATION' },
    });
    expect(await stored()).toEqual(unchanged);
  });

  it('gives back the place and the name of a device whose registration failed', async () => {
    const tenant = await gw.createTenant('PRV');
    const made = (await inject(gw, 'POST', '/v1/provisioning-profiles', { auth: tenant.secretKey, body: { name: 'One badge', kind: 'badge', maxDevices: 1 } }))
      .body as { profile: { id: string; provisionDeviceKey: string }; provisionDeviceSecret: string };
    const request = { deviceName: 'only-one', provisionDeviceKey: made.profile.provisionDeviceKey, provisionDeviceSecret: made.provisionDeviceSecret };
    // A damaged devices key (another type): registering the device fails after its place was taken.
    const devicesKey = tenantKeys(tenant.id).devices;
    await gw.redis.client.set(devicesKey, 'damaged');
    expect((await provision(request)).status).toBe(500);
    expect(await gw.redis.client.hget(tenantKeys(tenant.id).provisionedCounts, made.profile.id)).toBe('0');
    expect(await gw.redis.client.hexists(tenantKeys(tenant.id).provisionedNames, 'only-one')).toBe(0);
    await gw.redis.client.del(devicesKey);
    expect(JSON.parse((await provision(request)).body)).toMatchObject({ status: 'SUCCESS' });
  });

  it("rotates a profile's secret: the old one provisions nothing more, the new one does, and provisioned devices keep their tokens", async () => {
    const { profile: made, provisionDeviceSecret: oldSecret } = await profile({ name: 'Leaked batch', kind: 'badge' });
    const ask = async (deviceName: string, provisionDeviceSecret: string) =>
      JSON.parse((await provision({ deviceName, provisionDeviceKey: made.provisionDeviceKey, provisionDeviceSecret })).body) as {
        status: string;
        credentialsValue?: string;
      };
    const early = await ask('L-1', oldSecret);
    expect(early.status).toBe('SUCCESS');
    clock.startMinute();
    const minute = clock.now().toISOString().slice(0, 16);
    const rotated = await admin('POST', `/v1/provisioning-profiles/${made.id}/secret`);
    expect(rotated.status).toBe(200);
    const { profile: after, provisionDeviceSecret: newSecret } = rotated.body as { profile: Record<string, unknown>; provisionDeviceSecret: string };
    expect(newSecret).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(after).toMatchObject({
      id: made.id,
      provisionDeviceKey: made.provisionDeviceKey,
      provisionedDevices: 1,
      secretRotatedAt: expect.stringMatching(`^${minute}`),
    });
    expect(await ask('L-2', oldSecret)).toEqual({ status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' });
    expect((await ask('L-2', newSecret)).status).toBe('SUCCESS');
    expect((await curl('POST', `/api/v1/${early.credentialsValue}/telemetry`, JSON.stringify({ latitude: 23.1, longitude: 113.2 }))).status).toBe(200);
    expect((await admin('POST', '/v1/provisioning-profiles/pp_none/secret')).body).toMatchObject({ error: { code: 'CL_ERR_NOT_FOUND' } });
  });

  it('is for admins: profiles are made, listed and deleted by them alone, with a unit that exists', async () => {
    const dispatcher = await gw.tenant.token('d-1', 'dispatcher');
    for (const [method, path] of [
      ['POST', '/v1/provisioning-profiles'],
      ['GET', '/v1/provisioning-profiles'],
      ['PATCH', '/v1/provisioning-profiles/pp_x'],
      ['POST', '/v1/provisioning-profiles/pp_x/secret'],
      ['DELETE', '/v1/provisioning-profiles/pp_x'],
    ] as const) {
      const res = await inject(gw, method, path, {
        auth: dispatcher,
        ...(method !== 'GET' && method !== 'DELETE' ? { body: { name: 'x', kind: 'badge' } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    const unknownUnit = await admin('POST', '/v1/provisioning-profiles', { name: 'x', kind: 'badge', unitId: 'no-such-unit' });
    expect(unknownUnit.body).toMatchObject({ error: { code: 'CL_ERR_UNKNOWN_UNIT' } });
    const extra = await admin('POST', '/v1/provisioning-profiles', { name: 'x', kind: 'badge', strategy: 'create' });
    expect(extra.body).toMatchObject({ error: { code: 'CL_ERR_VALIDATION' } });
  });

  it('refuses what it cannot take without writing anything, and a deleted profile provisions nothing more', async () => {
    const { profile: made, provisionDeviceSecret } = await profile({ name: 'Spare badges', kind: 'badge' });
    const key = made.provisionDeviceKey;
    clock.startMinute();
    const before = await stored();
    const counted = (await gw.redis.client.keys('cl:rl:authfail:*')).length;
    // Not a request: 400 with a code. Device-chosen credentials are not taken.
    for (const body of [
      'not json',
      '[]',
      JSON.stringify({ provisionDeviceKey: key }),
      JSON.stringify({ provisionDeviceSecret }),
      JSON.stringify({ deviceName: 7 }),
    ]) {
      const answer = await curl('POST', '/api/v1/provision', body);
      expect(answer.status, body).toBe(400);
      expect(JSON.parse(answer.body).error.code).toBe('CL_ERR_VALIDATION');
    }
    const chosen = await provision({ deviceName: 'x', provisionDeviceKey: key, provisionDeviceSecret, credentialsType: 'ACCESS_TOKEN', token: 'my-own-token' });
    expect(chosen.status).toBe(400);
    expect(JSON.parse(chosen.body).error.message).toContain('token');
    // A wrong secret, an unknown key: NOT_FOUND, with a 200, as ThingsBoard answers.
    const wrong = await provision({ deviceName: 'x', provisionDeviceKey: key, provisionDeviceSecret: 'wrong' });
    expect(wrong.status).toBe(200);
    expect(JSON.parse(wrong.body)).toEqual({
      status: 'NOT_FOUND',
      errorMsg: 'Provision data was not found!',
    });
    expect(JSON.parse((await provision({ deviceName: 'x', provisionDeviceKey: 'unknownKey', provisionDeviceSecret })).body).status).toBe('NOT_FOUND');
    expect(await stored()).toEqual(before);
    // What was written: this minute's count of the address's failed logins.
    expect(await gw.redis.client.keys('cl:rl:authfail:*')).toHaveLength(counted + 1);

    // Deleted: its key provisions nothing more (and that lookup is the address's third failure here).
    expect((await admin('DELETE', `/v1/provisioning-profiles/${made.id}`)).status).toBe(204);
    expect(JSON.parse((await provision({ deviceName: 'x', provisionDeviceKey: key, provisionDeviceSecret })).body).status).toBe('NOT_FOUND');
    expect((await admin('DELETE', `/v1/provisioning-profiles/${made.id}`)).body).toMatchObject({ error: { code: 'CL_ERR_NOT_FOUND' } });
    // The fourth guess reaches the limit; from then on the address is refused before any lookup
    // (the API too, for the rest of the minute: this test comes last).
    expect(JSON.parse((await provision({ deviceName: 'x', provisionDeviceKey: 'guess4', provisionDeviceSecret })).body).status).toBe('NOT_FOUND');
    const blocked = await provision({ deviceName: 'x', provisionDeviceKey: 'guess5', provisionDeviceSecret });
    expect(blocked.status).toBe(429);
    expect(JSON.parse(blocked.body).error.code).toBe('CL_ERR_RATE_LIMITED');
  });
});
