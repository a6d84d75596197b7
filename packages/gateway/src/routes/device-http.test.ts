import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';

// Phones on one mobile carrier reach the gateway from a few shared addresses (here 127.0.0.1),
// and a gateway of its own keeps this address's failed logins apart from the other tests'. Its
// clock starts a minute before the test: the limit counts per minute of it.
const clock = new MinuteClock();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ rateLimitAuthFailuresPerAddress: 3 }, { telemetry: true, now: clock.now });
  clock.startMinute();
});
afterAll(async () => {
  await gw?.close();
});

async function phone() {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Phone' } });
  expect(res.status).toBe(201);
  return res.body as { device: { id: string }; credential: { password: string } };
}

const osmand = (secret: string, lat: number) =>
  fetch(`${gw.url}/v1/osmand?key=${encodeURIComponent(secret)}&lat=${lat}&lon=113.2&timestamp=${Math.floor(Date.now() / 1000)}`, { method: 'POST' });
const ownTracks = (deviceId: string, secret: string, lat: number) =>
  fetch(`${gw.url}/v1/owntracks`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${deviceId}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ _type: 'location', lat, lon: 113.2, tst: Math.floor(Date.now() / 1000) }),
  });

describe('phones over HTTP behind a shared address', () => {
  it('counts wrong secrets against the address; past the limit, a phone this gateway let in before still gets in, nothing else does', async () => {
    const traccar = await phone();
    const owntracks = await phone();
    const newcomer = await phone();
    expect((await osmand(traccar.credential.password, 23.1)).status).toBe(200);
    expect((await ownTracks(owntracks.device.id, owntracks.credential.password, 23.1)).status).toBe(200);

    // Another phone on the same carrier with a stale secret, retrying as the apps do.
    for (let i = 0; i < 3; i++) expect((await osmand(`cl_dk_stale-${i}`, 23.2)).status).toBe(401);
    const limited = await osmand('cl_dk_stale-3', 23.2);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Past the limit: a secret this gateway has not verified is refused without a lookup, a good one included.
    expect((await osmand(newcomer.credential.password, 23.3)).status).toBe(429);
    expect((await ownTracks(newcomer.device.id, newcomer.credential.password, 23.3)).status).toBe(429);

    // The phones let in before go on reporting, each way.
    expect((await osmand(traccar.credential.password, 23.4)).status).toBe(200);
    expect((await ownTracks(owntracks.device.id, owntracks.credential.password, 23.4)).status).toBe(200);
    // Only while the secret is good: after a rotation the old one is looked up and refused.
    expect((await inject(gw, 'POST', `/v1/devices/${traccar.device.id}/credentials`, { auth: gw.tenant.secretKey })).status).toBe(200);
    expect((await osmand(traccar.credential.password, 23.5)).status).toBe(429);
  });
});

describe("phones' posts and the per-address limit of keyless routes", () => {
  // Its own gateway, its clock held in the middle of a minute: the limits count per minute of it.
  let held: TestGateway;
  beforeAll(async () => {
    const at = new Date('2026-12-06T08:00:30Z');
    held = await startTestGateway({ rateLimitKeylessPerAddress: 5, rateLimitPerKey: 8 }, { telemetry: true, now: () => at });
  });
  afterAll(async () => held?.close());

  it('counts a phone per device, as an authenticated client, not against the keyless limit residents share', async () => {
    const phoneOf = async () =>
      (await inject(held, 'POST', '/v1/devices', { auth: held.tenant.secretKey, body: { kind: 'badge', name: 'Phone' } })).body as {
        device: { id: string };
        credential: { password: string };
      };
    const post = (secret: string) => fetch(`${held.url}/v1/osmand?key=${encodeURIComponent(secret)}&lat=23.1&lon=113.2`, { method: 'POST' });
    const [first, second] = [await phoneOf(), await phoneOf()];
    // Two phones behind the address post more than the keyless limit between them.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(first.credential.password)).status, (await post(second.credential.password)).status);
    expect(statuses).toEqual(Array(12).fill(200));
    // The keyless limit is still whole for the residents behind it: five reads, then 429.
    const reads: number[] = [];
    for (let i = 0; i < 6; i++) reads.push((await fetch(`${held.url}/v1/openapi.json`)).status);
    expect(reads).toEqual([200, 200, 200, 200, 200, 429]);
    // A phone past its own limit (8 a minute) is refused; the other one is not.
    expect([(await post(first.credential.password)).status, (await post(first.credential.password)).status]).toEqual([200, 200]);
    const flooding = await post(first.credential.password);
    expect(flooding.status).toBe(429);
    expect((await flooding.json()).error.code).toBe('CL_ERR_RATE_LIMITED');
    expect(flooding.headers.get('retry-after')).toBe('30');
    expect((await post(second.credential.password)).status).toBe(200);
  });
});
