import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { decodeStoredPosition } from '../store/stored-position.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
});
afterAll(async () => {
  await gw?.close();
});

async function phone(body: Record<string, unknown> = {}) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Phone', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { device: { id: string }; credential: { password: string } };
}

const state = (id: string) => gw.redis.client.hgetall(tenantKeys(gw.tenant.id).deviceState(id));

/** The request Traccar Client for Android makes (ProtocolFormatter.formatRequest): a POST with the position in the query and no body. */
function traccarClientUrl(
  serverUrl: string,
  p: {
    id: string;
    time: number;
    lat: number;
    lon: number;
    speedKnots: number;
    bearing: number;
    altitude: number;
    accuracy: number;
    batt: number;
    alarm?: string;
    charging?: boolean;
  },
) {
  const url = new URL(serverUrl);
  const q = url.searchParams;
  q.append('id', p.id);
  q.append('timestamp', String(Math.floor(p.time / 1000)));
  q.append('lat', String(p.lat));
  q.append('lon', String(p.lon));
  q.append('speed', String(p.speedKnots));
  q.append('bearing', String(p.bearing));
  q.append('altitude', String(p.altitude));
  q.append('accuracy', String(p.accuracy));
  q.append('batt', String(p.batt));
  if (p.charging) q.append('charge', 'true');
  if (p.alarm) q.append('alarm', p.alarm);
  return url.toString();
}

describe('OsmAnd / Traccar Client over HTTP', () => {
  it('stores a position sent as Traccar Client sends it (key in the server URL, device id as identifier, speed in knots)', async () => {
    const { device, credential } = await phone({ staffId: 'w-2' });
    const time = Date.now() - 3000;
    const url = traccarClientUrl(`${gw.url}/v1/osmand?key=${credential.password}`, {
      id: device.id,
      time,
      lat: 23.1291,
      lon: 113.2644,
      speedKnots: 10,
      bearing: 45.5,
      altitude: 21.3,
      accuracy: 8.0,
      batt: 76.0,
      charging: true,
    });
    const res = await fetch(url, { method: 'POST' });
    expect(res.status, await res.clone().text()).toBe(200);
    const stored = await state(device.id);
    expect(Number(stored.fixTime)).toBe(Math.floor(time / 1000) * 1000);
    expect(decodeStoredPosition(stored.position!)).toMatchObject({
      lat: 23.1291,
      lon: 113.2644,
      speedKmh: 18.52,
      course: 45.5,
      altitude: 21.3,
      accuracy: 8,
      battery: 76,
      source: 'osmand',
    });
    // The app retries what it did not get a 200 for: the same position is not stored twice.
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    expect(await gw.redis.client.xlen(tenantKeys(gw.tenant.id).track(device.id))).toBe(1);
  });

  it("takes GET, the secret as the identifier, a form body, and Traccar Client's JSON", async () => {
    const { device, credential } = await phone();
    const base = Date.now() - 60_000;
    const get = await fetch(`${gw.url}/v1/osmand?id=${credential.password}&lat=23.1&lon=113.2&timestamp=${new Date(base).toISOString()}`);
    expect(get.status).toBe(200);
    const form = await fetch(`${gw.url}/v1/osmand`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential.password}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `id=${device.id}&lat=23.2&lon=113.3&timestamp=${base + 1000}`,
    });
    expect(form.status).toBe(200);
    const json = await fetch(`${gw.url}/v1/osmand?key=${credential.password}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        device_id: device.id,
        location: {
          timestamp: new Date(base + 2000).toISOString(),
          coords: { latitude: 23.3, longitude: 113.4, speed: 5, heading: 90, accuracy: 12, altitude: 30 },
          is_moving: true,
          odometer: 1000,
          battery: { level: 0.5, is_charging: false },
          activity: { type: 'walking' },
        },
      }),
    });
    expect(json.status, await json.clone().text()).toBe(200);
    const track = await gw.redis.client.xrange(tenantKeys(gw.tenant.id).track(device.id), '-', '+');
    const records = track.map(([, f]) => decodeStoredPosition(f[1]!));
    expect(records.map((r) => r.lat)).toEqual([23.1, 23.2, 23.3]);
    // JSON speed is m/s: 5 m/s = 18 km/h; battery level 0..1.
    expect(records[2]).toMatchObject({ speedKmh: 18, course: 90, battery: 50 });
  });

  it("refuses a wrong secret and another device's identifier with catalogue errors; a bad position is set aside with 200", async () => {
    const { device, credential } = await phone();
    const other = await phone();
    const bad = await fetch(`${gw.url}/v1/osmand?key=cl_dk_wrong&id=${device.id}&lat=23&lon=113`, { method: 'POST' });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe('CL_ERR_INVALID_KEY');
    const none = await fetch(`${gw.url}/v1/osmand?id=${device.id}&lat=23&lon=113`, { method: 'POST' });
    expect((await none.json()).error.code).toBe('CL_ERR_UNAUTHENTICATED');
    const mismatch = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&id=${other.device.id}&lat=23&lon=113`, { method: 'POST' });
    expect(mismatch.status).toBe(401);
    const cases = [
      ['lat=95&lon=113', 'out_of_range'],
      ['lat=abc&lon=113', 'schema'],
      ['lat=23&lon=113&timestamp=99999999999999', 'future_fix'],
      ['lat=23&lon=113&speed=-4', 'out_of_range'],
    ];
    for (const [query, reason] of cases) {
      // 200, not 4xx: Traccar Client would otherwise send this position again forever, every later one queued behind it.
      const refused = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&${query}`, { method: 'POST' });
      expect(refused.status, query).toBe(200);
      expect(await refused.text(), query).toMatch(new RegExp(`^refused \\(${reason}\\): .+; set aside`));
    }
    expect(await gw.redis.client.exists(tenantKeys(gw.tenant.id).track(device.id))).toBe(0);
    // Whoever looks after the phone sees what it sends wrong, and the next good position is stored.
    const seen = await inject(gw, 'GET', `/v1/devices/${device.id}/state`, { auth: gw.tenant.secretKey });
    expect(seen.body).toMatchObject({ refused: { count: 4, lastReason: 'out_of_range' } });
    const good = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&lat=23&lon=113&timestamp=${Math.floor(Date.now() / 1000)}`, { method: 'POST' });
    expect(await good.text()).toBe('');
    expect(await gw.redis.client.xlen(tenantKeys(gw.tenant.id).track(device.id))).toBe(1);
    // No position at all (a heartbeat): acknowledged, nothing stored.
    expect((await fetch(`${gw.url}/v1/osmand?key=${credential.password}&batt=50`, { method: 'POST' })).status).toBe(200);
    const disabled = await inject(gw, 'PATCH', `/v1/devices/${device.id}`, { auth: gw.tenant.secretKey, body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect((await fetch(`${gw.url}/v1/osmand?key=${credential.password}&lat=23&lon=113`, { method: 'POST' })).status).toBe(403);
  });

  it('alarm=sos from the app opens an urgent ticket at the phone, once', async () => {
    const { device, credential } = await phone({ staffId: 'w-3' });
    const time = Date.now() - 1000;
    const url = traccarClientUrl(`${gw.url}/v1/osmand?key=${credential.password}`, {
      id: device.id,
      time,
      lat: 23.12,
      lon: 113.25,
      speedKnots: 0,
      bearing: 0,
      altitude: 0,
      accuracy: 5,
      batt: 40,
      alarm: 'sos',
    });
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    expect((await fetch(url, { method: 'POST' })).status).toBe(200);
    const tickets = (await inject(gw, 'GET', '/v1/tickets?channel=device', { auth: gw.tenant.secretKey })).body.items.filter((t: { description: string }) =>
      t.description.includes('w-3'),
    );
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ priority: 'urgent', category: 'other.worker_sos', location: { lat: 23.12, lon: 113.25 } });
  });

  it('a phone that reports GCJ-02 is stored in WGS-84, the point as sent kept beside it', async () => {
    const { device, credential } = await phone({ crs: 'gcj02' });
    // Guangzhou city centre in WGS-84 and as GCJ-02 shows it (about 600 m apart).
    const res = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&lat=23.126423&lon=113.269730&timestamp=${Math.floor(Date.now() / 1000) - 2}`, {
      method: 'POST',
    });
    expect(res.status).toBe(200);
    const stored = decodeStoredPosition((await state(device.id)).position!);
    expect(stored.received).toEqual({ lat: 23.126423, lon: 113.26973, crs: 'gcj02' });
    expect(stored.lat).toBeCloseTo(23.1291, 3);
    expect(stored.lon).toBeCloseTo(113.2644, 3);
  });
});
