import gcoord from 'gcoord';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { distanceMeters } from '../../geometry/distance.js';
import { tenantKeys } from '../../redis/keys.js';
import { DeviceStateStore, RECENT_ALERTS_KEPT } from '../../store/device-state-store.js';

// What a console shows when it opens: the newest device alerts, as the event stream carried them.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
});
afterAll(async () => gw?.close());

const recent = async (query = '', auth = gw.tenant.secretKey) => inject(gw, 'GET', `/v1/fleet/alerts${query}`, { auth });

describe('GET /v1/fleet/alerts', () => {
  it('lists the newest alerts, newest first, each with its event stream id; an SOS sent again is listed once', async () => {
    const phone = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Phone of w-1', staffId: 'w-1' } });
    const secret = phone.body.credential.password as string;
    const at = Math.floor(Date.now() / 1000) - 10;
    const osmand = (time: number, alarm: string) =>
      fetch(`${gw.url}/v1/osmand?key=${secret}&lat=23.12&lon=113.25&timestamp=${time}&alarm=${alarm}`, { method: 'POST' });
    expect((await osmand(at, 'sos')).status).toBe(200);
    // The app sends the same report again (no answer reached it): no second alert.
    expect((await osmand(at, 'sos')).status).toBe(200);
    expect((await osmand(at + 1, 'lowBattery')).status).toBe(200);
    const confirmed = await inject(gw, 'POST', `/v1/devices/${phone.body.device.id}/alarms/confirm`, { auth: gw.tenant.secretKey, body: { alarms: ['sos'] } });
    expect(confirmed.status).toBe(202);

    const res = await recent();
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { alert: { type: string } }) => item.alert.type)).toEqual(['alarm_confirmed', 'low_battery', 'sos']);
    // The same ids and alerts as on the event stream, newest first.
    const stream = (await gw.redis.client.xrange(tenantKeys(gw.tenant.id).events, '-', '+'))
      .filter(([, fields]) => fields[0] === 'a')
      .map(([streamId, fields]) => ({ streamId, alert: JSON.parse(fields[1]!) }))
      .reverse();
    expect(res.body.items).toEqual(stream);
    expect(res.body.items[2].alert).toMatchObject({ type: 'sos', deviceId: phone.body.device.id, staffId: 'w-1', ticketId: expect.any(String) });
    expect((await recent('?limit=1')).body.items).toEqual(stream.slice(0, 1));

    // For a Chinese basemap: the place in GCJ-02 or BD-09 (gcoord's own conversion of the WGS-84
    // point the phone sent), the rest as on the stream; an alert without a place unchanged.
    for (const crs of ['gcj02', 'bd09'] as const) {
      const shown = (await recent(`?crs=${crs}`)).body.items as { streamId: string; alert: { lat?: number; lon?: number } }[];
      const [lon, lat] = gcoord.transform([113.25, 23.12], gcoord.WGS84, crs === 'gcj02' ? gcoord.GCJ02 : gcoord.BD09) as [number, number];
      expect(distanceMeters({ lat: shown[2]!.alert.lat!, lon: shown[2]!.alert.lon! }, { lat, lon })).toBeLessThan(1);
      expect(distanceMeters({ lat: shown[2]!.alert.lat!, lon: shown[2]!.alert.lon! }, { lat: 23.12, lon: 113.25 })).toBeGreaterThan(100);
      expect(shown.map(({ streamId, alert: { lat: _lat, lon: _lon, ...rest } }) => ({ streamId, rest }))).toEqual(
        stream.map(({ streamId, alert: { lat: _lat, lon: _lon, ...rest } }) => ({ streamId, rest })),
      );
      expect(shown[0]!.alert).toEqual(stream[0]!.alert);
    }
    expect((await recent('?crs=wgs84')).body.items).toEqual(stream);
    const unknown = await recent('?crs=epsg3857');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('CL_ERR_VALIDATION');
  });

  it(`keeps the newest ${RECENT_ALERTS_KEPT}; refuses residents and a limit out of range`, async () => {
    const tenant = await gw.createTenant('A');
    const state = new DeviceStateStore(gw.redis.client);
    for (let i = 0; i < RECENT_ALERTS_KEPT + 5; i++) {
      const alert = {
        type: 'low_battery',
        deviceId: 'b-1',
        deviceKind: 'badge',
        deviceName: 'Badge',
        at: new Date(1_700_000_000_000 + i).toISOString(),
        battery: i,
      };
      expect(await state.raiseAlertOnce(tenant.id, `b-1:low_battery:${i}`, JSON.stringify(alert), { markerTtlSeconds: 60, streamMaxLen: 10_000 })).toBe(true);
    }
    expect(await gw.redis.client.llen(tenantKeys(tenant.id).recentAlerts)).toBe(RECENT_ALERTS_KEPT);
    const all = (await recent(`?limit=${RECENT_ALERTS_KEPT}`, tenant.secretKey)).body.items as { alert: { battery: number } }[];
    expect(all.map((item) => item.alert.battery)).toEqual(Array.from({ length: RECENT_ALERTS_KEPT }, (_, i) => RECENT_ALERTS_KEPT + 4 - i));

    const resident = await tenant.token('resident-1', 'citizen');
    expect((await recent('', resident)).body.error.code).toBe('CL_ERR_FORBIDDEN');
    for (const limit of ['0', String(RECENT_ALERTS_KEPT + 1), 'many'])
      expect((await recent(`?limit=${limit}`, tenant.secretKey)).body.error.code).toBe('CL_ERR_VALIDATION');
  });
});
