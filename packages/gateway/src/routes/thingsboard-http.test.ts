import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { curl as curlTo } from '@civicloop/test-support/thingsboard-http.js';
import { tenantKeys } from '../redis/keys.js';
import { decodeStoredPosition } from '../store/stored-position.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
});
afterAll(async () => {
  await gw?.close();
});

async function tracker() {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'vehicle', name: 'DTU on truck 7' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { device: { id: string }; credential: { password: string } };
}

const curl = (method: 'GET' | 'POST', path: string, json?: string) => curlTo(method, `${gw.url}${path}`, json);

const track = async (deviceId: string) =>
  (await gw.redis.client.xrange(tenantKeys(gw.tenant.id).track(deviceId), '-', '+')).map(([, fields]) => decodeStoredPosition(fields[1]!));
const deviceState = async (deviceId: string) =>
  (await inject(gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: gw.tenant.secretKey })).body as {
    refused: { count: number; lastReason: string } | null;
    ignored: { count: number; lastReason: string } | null;
  };

describe("ThingsBoard's HTTP device API", () => {
  it('stores telemetry in its three forms, sets attributes aside and answers a request for them with none', async () => {
    const { device, credential } = await tracker();
    const token = credential.password;
    const now = Date.now();
    // Key-value at server time, { ts, values }, and a batch flushed after a time offline.
    expect(await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ latitude: 23.12, longitude: 113.26, speed: 18, temperature: 41 }))).toEqual({
      status: 200,
      telemetry: undefined,
      body: '',
    });
    expect(
      (await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ ts: now - 60_000, values: { latitude: 23.11, longitude: 113.25 } }))).status,
    ).toBe(200);
    const batch = [
      { ts: now - 120_000, values: { latitude: 23.1, longitude: 113.24, heading: 90 } },
      { ts: now - 90_000, values: { latitude: 23.105, longitude: 113.245 } },
    ];
    expect((await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify(batch))).status).toBe(200);
    const stored = await track(device.id);
    expect(stored.map((r) => [r.lat, r.source]).sort()).toEqual([
      [23.1, 'thingsboard'],
      [23.105, 'thingsboard'],
      [23.11, 'thingsboard'],
      [23.12, 'thingsboard'],
    ]);
    expect(stored.find((r) => r.lat === 23.11)!.fixTime).toBe(now - 60_000);

    // Client-side attributes are acknowledged and set aside; asked for, there are none.
    const attributes = await curl('POST', `/api/v1/${token}/attributes`, JSON.stringify({ firmwareVersion: '2.1.0', serialNumber: 'SN-4A21F' }));
    expect(attributes).toEqual({ status: 200, telemetry: 'ignored; reason=unused_topic', body: '' });
    expect(await curl('GET', `/api/v1/${token}/attributes?clientKeys=firmwareVersion&sharedKeys=targetFwVersion`)).toEqual({
      status: 200,
      telemetry: undefined,
      body: '{}',
    });
    expect((await deviceState(device.id)).ignored).toMatchObject({ count: 1, lastReason: 'unused_topic' });
  });

  it('answers 200 with the reason for a message it refuses, 401 for a wrong token, and 403 for a disabled device', async () => {
    const { device, credential } = await tracker();
    const token = credential.password;
    // Not JSON, and a latitude off the map: refused for good, counted, and no reason to resend.
    expect(await curl('POST', `/api/v1/${token}/telemetry`, '{"latitude": 23.1,')).toEqual({ status: 200, telemetry: 'refused; reason=not_json', body: '' });
    const offMap = await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ latitude: 123.1, longitude: 113.2 }));
    expect(offMap.status).toBe(200);
    expect(offMap.telemetry).toMatch(/^refused; reason=/);
    expect((await deviceState(device.id)).refused).toMatchObject({ count: 2 });
    expect(await track(device.id)).toEqual([]);

    const wrong = await curl('POST', '/api/v1/cl_dk_not-a-secret/telemetry', JSON.stringify({ latitude: 23.1, longitude: 113.2 }));
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.code).toBe('CL_ERR_INVALID_KEY');

    expect((await inject(gw, 'PATCH', `/v1/devices/${device.id}`, { auth: gw.tenant.secretKey, body: { disabled: true } })).status).toBe(200);
    const disabled = await curl('POST', `/api/v1/${token}/telemetry`, JSON.stringify({ latitude: 23.1, longitude: 113.2 }));
    expect(disabled.status).toBe(403);
    expect(JSON.parse(disabled.body).error.code).toBe('CL_ERR_FORBIDDEN');
    expect(await track(device.id)).toEqual([]);
  });
});
