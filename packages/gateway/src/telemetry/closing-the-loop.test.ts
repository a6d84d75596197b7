import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import gcoord from 'gcoord';
import { distanceMeters } from '../geometry/distance.js';

let gw: TestGateway;
const clients: MqttClient[] = [];
const SITE = { lat: 23.1291, lon: 113.2644 };
const metersNorth = (m: number) => ({ lat: SITE.lat + m / 111_320, lon: SITE.lon });

beforeAll(async () => {
  gw = await startTestGateway({ arrivalEnterMeters: 30, arrivalExitMeters: 60, arrivalDwellSeconds: 30 }, { telemetry: true });
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  await gw?.close();
});

async function badge(name: string, staffId: string, unitId: string, skills: string[]) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name, staffId, unitId, skills } });
  expect(res.status).toBe(201);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
    username: res.body.credential.username,
    password: res.body.credential.password,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const id = res.body.device.id as string;
  const at = (point: { lat: number; lon: number }, ts = Date.now()) =>
    client.publishAsync(nativeTopic(gw.tenant.id, 'badge', id, 'position'), JSON.stringify({ ts, ...point }), { qos: 1 });
  const event = (type: string, ts = Date.now()) =>
    client.publishAsync(nativeTopic(gw.tenant.id, 'badge', id, 'event'), JSON.stringify({ type, ts }), { qos: 1 });
  return { id, client, at, event };
}

describe('dispatch to the nearest on-duty worker', () => {
  it('picks the nearest checked-in worker with the skills, and their badge gets the assignment', async () => {
    const near = await badge('Near but off duty', 'w-2', 'sanitation', ['cleaning']);
    const onDuty = await badge('On duty', 'w-1', 'sanitation', ['cleaning']);
    const wrongSkill = await badge('Road crew', 'w-3', 'municipal', ['road']);
    await near.at(metersNorth(50));
    await onDuty.at(metersNorth(400));
    await wrongSkill.at(metersNorth(10));
    await onDuty.event('check_in');
    await wrongSkill.event('check_in');
    await onDuty.client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', onDuty.id, 'cmd'), { qos: 1 });
    const command = new Promise<Record<string, unknown>>((resolve) => onDuty.client.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()))));

    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: SITE } });
    // A dispatcher first sees the suggestions: only the checked-in worker with the skills, with
    // name, unit and distance (the off-duty one and the road crew are not suggested).
    const dispatcher = await gw.tenant.token('d-1', 'dispatcher');
    const suggested = await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/nearest-workers?radiusMeters=1000&limit=5`, { auth: dispatcher });
    expect(suggested.status, JSON.stringify(suggested.body)).toBe(200);
    expect(suggested.body).toMatchObject({ radiusMeters: 1000, skills: ['cleaning'] });
    expect(suggested.body.items).toHaveLength(1);
    expect(suggested.body.items[0]).toMatchObject({ staffId: 'w-1', unitId: 'sanitation', deviceId: onDuty.id });
    expect(Math.abs(suggested.body.items[0].distanceMeters - 400)).toBeLessThanOrEqual(2);
    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    expect((await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/nearest-workers`, { auth: worker })).body.error.code).toBe('CL_ERR_FORBIDDEN');
    expect((await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/nearest-workers?limit=0`, { auth: dispatcher })).body.error.code).toBe('CL_ERR_VALIDATION');
    // Asked with ?crs, as a console on AMap asks: the ticket in the answer as its map draws it.
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch-nearest?crs=gcj02`, {
      auth: gw.tenant.secretKey,
      body: { radiusMeters: 1000 },
    });
    expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
    // Against gcoord's GCJ-02 point (not the gateway's own conversion): within 2 m.
    const [gcjLon, gcjLat] = gcoord.transform([SITE.lon, SITE.lat], gcoord.WGS84, gcoord.GCJ02) as [number, number];
    expect(dispatched.body.ticket.location).toMatchObject({ crs: 'gcj02' });
    expect(distanceMeters(dispatched.body.ticket.location, { lat: gcjLat, lon: gcjLon })).toBeLessThan(2);
    expect(dispatched.body.worker).toMatchObject({ staffId: 'w-1', deviceId: onDuty.id });
    expect(dispatched.body.worker.distanceMeters).toBeGreaterThan(350);
    expect(dispatched.body.ticket).toMatchObject({ status: 'dispatched', assigneeId: 'w-1', unitId: 'sanitation' });
    expect(await command).toMatchObject({ type: 'assignment', ticketId: ticket.body.id, number: ticket.body.number, location: SITE });

    const far = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: { lat: 23.3, lon: 113.5 } } });
    const none = await inject(gw, 'POST', `/v1/tickets/${far.body.id}/dispatch-nearest`, { auth: gw.tenant.secretKey, body: { radiusMeters: 500 } });
    expect(none.body.error.code).toBe('CL_ERR_NO_WORKER_NEARBY');
    expect((await inject(gw, 'GET', `/v1/tickets/${far.body.id}`, { auth: gw.tenant.secretKey })).body.status).toBe('reported');
  });
});

/** A ticket at SITE, dispatched to and accepted by a sanitation worker. */
async function acceptedBy(staffId: string) {
  const dispatcher = await gw.tenant.token('d', 'dispatcher');
  const worker = await gw.tenant.token(staffId, 'worker', { unitId: 'sanitation' });
  const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: SITE } });
  await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: staffId } });
  const accepted = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/accept`, { auth: worker, body: {} });
  expect(accepted.body.ticket.status).toBe('accepted');
  return ticket;
}

describe('arrival on site', () => {
  it('moves the ticket to on_site exactly once as a badge walks in, jitters at the edge and wanders around', async () => {
    const walker = await badge('Walker', 'w-2', 'sanitation', ['cleaning']);
    const ticket = await acceptedBy('w-2');

    // Fix times 5 s apart, ending now. Dwell is 30 s, enter 30 m, exit 60 m.
    const path = [300, 200, 100, 45, 28, 35, 50, 25, 20, 55, 29, 40, 58, 15, 10, 12, 20, 45, 80, 25, 10, 5, 90, 200];
    const start = Date.now() - path.length * 5000;
    const statuses: string[] = [];
    for (const [i, meters] of path.entries()) {
      await walker.at(metersNorth(meters), start + i * 5000);
      // Arrival detection runs after the PUBACK; wait for it before reading the ticket.
      await gw.telemetry!.settled();
      statuses.push((await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: gw.tenant.secretKey })).body.status);
    }
    // First inside at index 4 (28 m); jitter stays under the 60 m exit; 30 s later, index 10, it arrives.
    expect(statuses.indexOf('on_site')).toBe(10);
    const history = (await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/history`, { auth: gw.tenant.secretKey })).body.items;
    const arrivals = history.filter((e: { type: string }) => e.type === 'arrived');
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]).toMatchObject({ actor: { sub: 'w-2', role: 'worker' }, data: { automatic: true } });
  });

  it('does not arrive while the badge only passes by', async () => {
    const passer = await badge('Passer', 'w-1', 'sanitation', ['cleaning']);
    const ticket = await acceptedBy('w-1');
    const start = Date.now() - 60_000;
    for (const [i, meters] of [100, 20, 10, 70, 150, 20, 90].entries()) await passer.at(metersNorth(meters), start + i * 8000);
    await gw.telemetry!.settled();
    expect((await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: gw.tenant.secretKey })).body.status).toBe('accepted');
  });
});

describe('fleet queries', () => {
  it('serves live positions, a track, device state and attendance', async () => {
    const v = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'vehicle', name: 'Truck 9', plate: '粤A·99999' } });
    const truck = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: v.body.credential.username,
      password: v.body.credential.password,
      reconnectPeriod: 0,
    });
    clients.push(truck);
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 4; i++) {
      await truck.publishAsync(
        nativeTopic(gw.tenant.id, 'vehicle', v.body.device.id, 'position'),
        JSON.stringify({ ts: t0 + i * 10_000, lat: 23.13 + i * 0.001, lon: 113.26, speed: 20 + i }),
        { qos: 1 },
      );
    }
    const fleet = await inject(gw, 'GET', '/v1/fleet?kind=vehicle', { auth: gw.tenant.secretKey });
    const point = fleet.body.features.find((f: { properties: { deviceId: string } }) => f.properties.deviceId === v.body.device.id);
    expect(point).toMatchObject({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [113.26, 23.133] },
      properties: { plate: '粤A·99999', speedKmh: 23, online: true },
    });

    const from = new Date(t0 + 5_000).toISOString();
    const to = new Date(t0 + 35_000).toISOString();
    const track = await inject(gw, 'GET', `/v1/devices/${v.body.device.id}/track?from=${from}&to=${to}`, { auth: gw.tenant.secretKey });
    expect(track.body.geometry.type).toBe('LineString');
    expect(track.body.geometry.coordinates.map(([, lat]: [number, number]) => Number(lat.toFixed(6)))).toEqual([23.131, 23.132, 23.133]);
    expect(track.body.properties.times).toHaveLength(3);

    const state = await inject(gw, 'GET', `/v1/devices/${v.body.device.id}/state`, { auth: gw.tenant.secretKey });
    expect(state.body).toMatchObject({ online: true, onDutySince: null });

    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const attendance = await inject(gw, 'GET', `/v1/attendance?day=${today}`, { auth: gw.tenant.secretKey });
    expect(attendance.body.onDuty.map((o: { staffId: string }) => o.staffId).sort()).toEqual(['w-1', 'w-3']);
    expect(attendance.body.coverage).toContainEqual({ unitId: 'sanitation', workers: 2, present: 1, coverage: 0.5 });
  });
});
