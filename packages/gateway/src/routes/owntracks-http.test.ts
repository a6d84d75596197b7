import { describe, expect, it } from 'vitest';
import { BIN_REPORT, inject } from '@civicloop/test-support/gateway-harness.js';
import { useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import { openWithLibsodium, ownTracksEncrypted } from '@civicloop/test-support/libsodium-seal.js';
import { tenantKeys } from '../redis/keys.js';
import { sealedSecretsOfTenants } from '../store/tenant-store.js';
import { decodeStoredPosition } from '../store/stored-position.js';

const devices = useDeviceGateway();
const phone = devices.register;

const track = async (deviceId: string) =>
  (await devices.gw.redis.client.xrange(tenantKeys(devices.gw.tenant.id).track(deviceId), '-', '+')).map(([, fields]) => decodeStoredPosition(fields[1]!));
const deviceState = async (deviceId: string) => (await inject(devices.gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: devices.gw.tenant.secretKey })).body;

/** A location as OwnTracks for Android builds it in HTTP mode (MessageLocation, with the topic made visible). */
function location(lat: number, lon: number, tst: number, extra: Record<string, unknown> = {}) {
  return {
    _type: 'location',
    _id: Math.random().toString(16).slice(2, 10),
    acc: 5,
    alt: 21,
    batt: 87,
    bs: 1,
    cog: 90,
    conn: 'm',
    created_at: tst + 1,
    lat,
    lon,
    m: 2,
    tid: 'li',
    tst,
    vac: 3,
    vel: 4,
    topic: 'owntracks/http/li',
    ...extra,
  };
}

/** The request OwnTracks for Android makes (HttpMessageProcessorEndpoint.getRequest): Basic credentials, X-Limit headers, JSON. */
function post(username: string, password: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${devices.gw.url}/v1/owntracks`, {
    method: 'POST',
    headers: {
      'user-agent': 'Owntracks-Android/gms/420503000',
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      'x-limit-u': username,
      'x-limit-d': 'pixel',
      'content-type': 'application/json; charset=utf-8',
      ...headers,
    },
    body,
  });
}

/** A worker of the sanitation unit, with a phone registered to them as their badge. */
async function workerWithPhone(staffId: string) {
  const staff = await inject(devices.gw, 'POST', '/v1/staff', {
    auth: devices.gw.tenant.secretKey,
    body: { id: staffId, name: staffId, role: 'worker', unitId: 'sanitation' },
  });
  expect(staff.status, JSON.stringify(staff.body)).toBe(201);
  return phone({ staffId, unitId: 'sanitation' });
}

describe("OwnTracks' HTTP mode", () => {
  it('stores a location as the app posts it and answers [], once however often it is sent again', async () => {
    const { device, credential } = await phone({ staffId: 'w-ot-1' });
    const tst = Math.floor(Date.now() / 1000) - 30;
    const body = JSON.stringify(location(23.1291, 113.2644, tst));
    const res = await post(device.id, credential.password, body);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual([]);
    // The app sends again what it did not get a 2xx for; the fix is stored once.
    expect((await post(device.id, credential.password, body)).status).toBe(200);
    const stored = await track(device.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ lat: 23.1291, lon: 113.2644, fixTime: tst * 1000, accuracy: 5, battery: 87, speedKmh: 4, source: 'owntracks' });
    // A region event, and the booklet's own test (curl --data: a form content type).
    const enter = { _type: 'transition', event: 'enter', desc: 'Depot', lat: 23.13, lon: 113.27, tst: tst + 5, wtst: tst - 999, acc: 10, t: 'c' };
    expect((await post(device.id, credential.password, JSON.stringify(enter))).status).toBe(200);
    const curl = await post(device.id, credential.password, JSON.stringify(location(23.14, 113.28, tst + 10)), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(curl.status).toBe(200);
    expect((await track(device.id)).map((r) => [r.lat, r.alarms])).toEqual([
      [23.1291, []],
      [23.13, ['enter:Depot']],
      [23.14, []],
    ]);
  });

  it("opens a phone's encrypted messages with its ownTracksKey, and says why it cannot when it cannot", async () => {
    const { device, credential } = await phone({ ownTracksKey: '环卫三班 key' });
    expect(device.ownTracksEncryption).toBe(true);
    const tst = Math.floor(Date.now() / 1000) - 20;
    const sealed = await post(device.id, credential.password, ownTracksEncrypted('环卫三班 key', location(23.2, 113.3, tst)));
    expect(sealed.status).toBe(200);
    expect(sealed.headers.get('civicloop-telemetry')).toBeNull();
    expect((await track(device.id)).map((r) => [r.lat, r.fixTime])).toEqual([[23.2, tst * 1000]]);
    // The app's key typed differently: refused, still answered 200 so the app's queue moves on.
    const wrong = await post(device.id, credential.password, ownTracksEncrypted('环卫三班 Key', location(23.3, 113.3, tst + 1)));
    expect(wrong.status).toBe(200);
    expect(wrong.headers.get('civicloop-telemetry')).toBe('refused; reason=undecryptable');
    expect(await deviceState(device.id)).toMatchObject({ refused: { count: 1, lastReason: 'undecryptable' } });
    // Without a key on the device, an encrypted message cannot be read at all.
    const plain = await phone();
    const noKey = await post(plain.device.id, plain.credential.password, ownTracksEncrypted('any', location(23.4, 113.3, tst)));
    expect(noKey.headers.get('civicloop-telemetry')).toBe('refused; reason=no_key');
    expect(await track(plain.device.id)).toEqual([]);
    // The key is never shown again, nor kept in the device's record.
    const shown = await inject(devices.gw, 'GET', `/v1/devices/${device.id}`, { auth: devices.gw.tenant.secretKey });
    expect(JSON.stringify(shown.body)).not.toContain('key');
    expect(await devices.gw.redis.client.hget(tenantKeys(devices.gw.tenant.id).devices, device.id)).not.toContain('环卫');
    const storedKey = await devices.gw.redis.client.hget(tenantKeys(devices.gw.tenant.id).deviceOwnTracksKeys, device.id);
    expect(storedKey).not.toContain('环卫');
    // Among the secrets a gateway started with another master key must fail to open.
    expect((await sealedSecretsOfTenants(devices.gw.redis.client)).flatMap((t) => t.sealed)).toContain(storedKey);
  });

  it('answers 200 for every message it refuses or sets aside, so one bad message never holds the phone up', async () => {
    const { device, credential } = await phone();
    const tst = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      [JSON.stringify(location(23.1, 113.2, tst + 3600)), 'refused; reason=future_fix'],
      [JSON.stringify(location(23.1, 113.2, tst - 40 * 86_400)), 'refused; reason=stale_fix'],
      [JSON.stringify(location(95, 113.2, tst)), 'refused; reason=schema'],
      ['{"_type":"location",', 'refused; reason=not_json'],
      [JSON.stringify({ ...location(23.1, 113.2, tst), pad: 'x'.repeat(20_000) }), 'refused; reason=too_large'],
      [JSON.stringify({ _type: 'waypoint', desc: 'Depot', lat: 23.1, lon: 113.2, rad: 50, tst }), 'ignored; reason=unused_type'],
      [JSON.stringify({ _type: 'status', android: { hib: 1 } }), 'ignored; reason=unused_type'],
    ];
    for (const [body, outcome] of cases) {
      const res = await post(device.id, credential.password, body);
      expect(res.status, outcome).toBe(200);
      expect(res.headers.get('civicloop-telemetry'), outcome).toBe(outcome);
      expect(await res.json()).toEqual([]);
    }
    // Zero length (the app clearing a friend): nothing to keep, nothing counted.
    expect((await post(device.id, credential.password, '')).status).toBe(200);
    expect(await deviceState(device.id)).toMatchObject({ refused: { count: 5 }, ignored: { count: 2 } });
    expect(await track(device.id)).toEqual([]);
    const good = await post(device.id, credential.password, JSON.stringify(location(23.5, 113.5, tst - 5)));
    expect(good.headers.get('civicloop-telemetry')).toBeNull();
    expect((await track(device.id)).map((r) => r.lat)).toEqual([23.5]);
  });

  it('hands a location request to the phone in the answer to its next post, and the location it then sends answers it', async () => {
    const { device, credential } = await phone();
    const tst = Math.floor(Date.now() / 1000);
    expect(await (await post(device.id, credential.password, JSON.stringify(location(23.1, 113.2, tst - 60)))).json()).toEqual([]);
    const asked = fetch(`${devices.gw.url}/v1/devices/${device.id}/locate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` },
    });
    // The phone's next post is answered with OwnTracks' own command, once. (Empty posts here, which
    // change nothing stored, so that only the answer below can answer the question.)
    await expect.poll(async () => (await post(device.id, credential.password, '')).json()).toEqual([{ _type: 'cmd', action: 'reportLocation' }]);
    expect(await (await post(device.id, credential.password, '')).json()).toEqual([]);
    // OwnTracks answers reportLocation with a location whose trigger is "r".
    await post(device.id, credential.password, JSON.stringify(location(23.15, 113.35, tst, { t: 'r' })));
    const located = await asked;
    expect(located.status, await located.clone().text()).toBe(200);
    expect(await located.json()).toMatchObject({ lat: 23.15, lon: 113.35 });
  });

  it("hands the phone its wearer's jobs as regions in the answer to its next post, once, and again when they change", async () => {
    const staffId = 'w-ot-http-jobs';
    const { device, credential } = await workerWithPhone(staffId);
    const created = await inject(devices.gw, 'POST', '/v1/tickets', { auth: devices.gw.tenant.secretKey, body: BIN_REPORT });
    const ticket = created.body as { id: string; number: string; location: { lat: number; lon: number } };
    const act = async (command: string, body: Record<string, unknown>) =>
      expect((await inject(devices.gw, 'POST', `/v1/tickets/${ticket.id}/${command}`, { auth: devices.gw.tenant.secretKey, body })).status).toBe(200);
    const waitingTypes = async () =>
      ((await inject(devices.gw, 'GET', `/v1/devices/${device.id}/state`, { auth: devices.gw.tenant.secretKey })).body.waiting as { type: string }[]).map(
        (entry) => entry.type,
      );
    await act('dispatch', { unitId: 'sanitation', assigneeId: staffId });
    await expect.poll(waitingTypes).toEqual(['assignment']);

    const tst = Math.floor(Date.now() / 1000);
    const job = { _type: 'waypoint', desc: `${ticket.number} 垃圾桶满溢 Tianhe Rd bus stop`, lat: ticket.location.lat, lon: ticket.location.lon, rad: 30 };
    expect(await (await post(device.id, credential.password, JSON.stringify(location(23.1, 113.2, tst - 60)))).json()).toEqual([
      { _type: 'cmd', action: 'setWaypoints', waypoints: { _type: 'waypoints', waypoints: [{ ...job, tst: 1_000_000_000, rid: 'civicloop-0' }] } },
    ]);
    expect(await (await post(device.id, credential.password, '')).json()).toEqual([]);

    // A location request and the job taken away, waiting together: both in one answer, the
    // request first; the job's slot freed.
    const asked = fetch(`${devices.gw.url}/v1/devices/${device.id}/locate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` },
    });
    await act('reassign', { unitId: 'sanitation' });
    await expect.poll(waitingTypes).toEqual(['report_location', 'withdrawal']);
    const free = { _type: 'waypoint', desc: 'CivicLoop (no job)', lat: 0, lon: 0, rad: 0, tst: 1_000_000_000, rid: 'civicloop-0' };
    expect(await (await post(device.id, credential.password, '')).json()).toEqual([
      { _type: 'cmd', action: 'reportLocation' },
      { _type: 'cmd', action: 'setWaypoints', waypoints: { _type: 'waypoints', waypoints: [free] } },
    ]);
    await post(device.id, credential.password, JSON.stringify(location(23.15, 113.35, tst, { t: 'r' })));
    expect((await asked).status).toBe(200);
    expect(await waitingTypes()).toEqual([]);
  });

  it('gives a worker with more jobs than iOS watches regions for only the newest 20, oldest first', async () => {
    const staffId = 'w-ot-http-busy';
    const { device, credential } = await workerWithPhone(staffId);
    const numbers: string[] = [];
    for (let i = 0; i < 21; i++) {
      const created = await inject(devices.gw, 'POST', '/v1/tickets', { auth: devices.gw.tenant.secretKey, body: BIN_REPORT });
      const ticket = created.body as { id: string; number: string };
      numbers.push(ticket.number);
      const body = { unitId: 'sanitation', assigneeId: staffId };
      expect((await inject(devices.gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: devices.gw.tenant.secretKey, body })).status).toBe(200);
    }
    const [sync] = (await (await post(device.id, credential.password, '')).json()) as { waypoints: { waypoints: { desc: string; tst: number }[] } }[];
    const regions = sync!.waypoints.waypoints;
    expect(regions.map((r) => r.desc.split(' ')[0])).toEqual(numbers.slice(1));
    expect(regions.map((r) => r.tst)).toEqual(regions.map((_, i) => 1_000_000_000 + i));
  });

  it('seals the location request for a phone that encrypts, as the OwnTracks Recorder answers', async () => {
    const { device, credential } = await phone({ ownTracksKey: 'sealed answers' });
    const tst = Math.floor(Date.now() / 1000);
    await post(device.id, credential.password, ownTracksEncrypted('sealed answers', location(23.1, 113.2, tst - 60)));
    const asked = fetch(`${devices.gw.url}/v1/devices/${device.id}/locate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` },
    });
    let answer: unknown;
    await expect
      .poll(async () => {
        answer = await (await post(device.id, credential.password, '')).json();
        return Array.isArray(answer);
      })
      .toBe(false);
    expect(answer).toMatchObject({ _type: 'encrypted', data: expect.any(String) });
    // Opened with libsodium, as the app opens it: the whole array, sealed as one message.
    expect(JSON.parse(openWithLibsodium('sealed answers', (answer as { data: string }).data))).toEqual([{ _type: 'cmd', action: 'reportLocation' }]);
    await post(device.id, credential.password, ownTracksEncrypted('sealed answers', location(23.16, 113.36, tst, { t: 'r' })));
    expect(await (await asked).json()).toMatchObject({ lat: 23.16, lon: 113.36 });
  });

  it('refuses what the app must put right with catalogue errors: missing, unknown or mismatched credentials, a disabled device', async () => {
    const { device, credential } = await phone();
    const other = await phone();
    const body = JSON.stringify(location(23.1, 113.2, Math.floor(Date.now() / 1000)));
    const none = await fetch(`${devices.gw.url}/v1/owntracks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await none.json()).error.code).toBe('CL_ERR_UNAUTHENTICATED');
    const wrong = await post(device.id, 'cl_dk_not-the-secret', body);
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('CL_ERR_INVALID_KEY');
    const mismatch = await post(other.device.id, credential.password, body);
    expect(mismatch.status).toBe(401);
    expect((await mismatch.json()).error.message).toContain(`set the app's Username to ${device.id}`);
    expect(await track(device.id)).toEqual([]);
    expect(await track(other.device.id)).toEqual([]);
    expect((await inject(devices.gw, 'PATCH', `/v1/devices/${device.id}`, { auth: devices.gw.tenant.secretKey, body: { disabled: true } })).status).toBe(200);
    const disabled = await post(device.id, credential.password, body);
    expect(disabled.status).toBe(403);
    expect((await disabled.json()).error.code).toBe('CL_ERR_FORBIDDEN');
  });

  it('refuses a key the apps cannot hold, or one for a JT/T 808 terminal, and changes nothing', async () => {
    const { device } = await phone({ ownTracksKey: 'first key' });
    const before = await devices.gw.redis.client.hget(tenantKeys(devices.gw.tenant.id).deviceOwnTracksKeys, device.id);
    for (const ownTracksKey of ['k'.repeat(33), '环'.repeat(11), '']) {
      const res = await inject(devices.gw, 'PATCH', `/v1/devices/${device.id}`, { auth: devices.gw.tenant.secretKey, body: { ownTracksKey, name: 'Renamed' } });
      expect(res.status, ownTracksKey).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('CL_ERR_VALIDATION');
    }
    const terminal = await inject(devices.gw, 'POST', '/v1/devices', {
      auth: devices.gw.tenant.secretKey,
      body: { kind: 'vehicle', name: 'Truck', protocol: 'jt808', terminalId: '13800138000', ownTracksKey: 'k' },
    });
    expect(terminal.status).toBe(400);
    const listed = (await inject(devices.gw, 'GET', '/v1/devices', { auth: devices.gw.tenant.secretKey })).body as { items: { name: string }[] };
    expect(listed.items.map((d) => d.name)).toContain('Phone');
    expect(listed.items.map((d) => d.name)).not.toContain('Truck');
    // Its terminal number was not claimed either: the same registration without the key goes through.
    const again = await inject(devices.gw, 'POST', '/v1/devices', {
      auth: devices.gw.tenant.secretKey,
      body: { kind: 'vehicle', name: 'Truck', protocol: 'jt808', terminalId: '13800138000' },
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const after = await inject(devices.gw, 'GET', `/v1/devices/${device.id}`, { auth: devices.gw.tenant.secretKey });
    expect(after.body).toMatchObject({ name: 'Phone', ownTracksEncryption: true });
    expect(await devices.gw.redis.client.hget(tenantKeys(devices.gw.tenant.id).deviceOwnTracksKeys, device.id)).toBe(before);
    // null takes the key away, record and key together.
    const off = await inject(devices.gw, 'PATCH', `/v1/devices/${device.id}`, { auth: devices.gw.tenant.secretKey, body: { ownTracksKey: null } });
    expect(off.status).toBe(200);
    expect(off.body).not.toHaveProperty('ownTracksEncryption');
    expect(await devices.gw.redis.client.hexists(tenantKeys(devices.gw.tenant.id).deviceOwnTracksKeys, device.id)).toBe(0);
  });
});
