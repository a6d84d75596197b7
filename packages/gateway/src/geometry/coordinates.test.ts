import gcoord from 'gcoord';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { distanceMeters } from './distance.js';

/**
 * The same place as three maps give it. The GCJ-02 and BD-09 points are computed with gcoord
 * directly (the library the gateway uses, not the gateway's code), and the test checks the
 * gateway brings them back to the WGS-84 place: within 2 m.
 */
const SITE = { lat: 23.1291, lon: 113.2644 };
const as = (point: { lat: number; lon: number }, crs: 'GCJ02' | 'BD09') => {
  const [lon, lat] = gcoord.transform([point.lon, point.lat], gcoord.WGS84, gcoord[crs]) as [number, number];
  return { lat, lon };
};
const square = (center: { lat: number; lon: number }, halfDeg: number): [number, number][][] => [
  [
    [center.lon - halfDeg, center.lat - halfDeg],
    [center.lon + halfDeg, center.lat - halfDeg],
    [center.lon + halfDeg, center.lat + halfDeg],
    [center.lon - halfDeg, center.lat + halfDeg],
    [center.lon - halfDeg, center.lat - halfDeg],
  ],
];

let gw: TestGateway;
const clients: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ arrivalEnterMeters: 30, arrivalExitMeters: 60, arrivalDwellSeconds: 0 }, { telemetry: true });
  // A zone drawn in WGS-84: about 220 m either side of the site, so a point 600 m off lands outside it.
  const zone = await inject(gw, 'POST', '/v1/zones', {
    auth: gw.tenant.secretKey,
    body: {
      id: 'tianhe-bus-stop',
      name: 'Bus stop',
      type: 'grid',
      geometry: { type: 'Polygon', coordinates: square(SITE, 0.002) },
      routes: [{ categories: ['sanitation.*'], unitId: 'sanitation' }],
    },
  });
  expect(zone.status, JSON.stringify(zone.body)).toBe(201);
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await gw?.close();
});

const report = (location: Record<string, unknown>, extra: Record<string, unknown> = {}, auth = gw.tenant.secretKey) =>
  inject(gw, 'POST', '/v1/tickets', { auth, body: { ...BIN_REPORT, location, ...extra } });

describe('points from Chinese maps', () => {
  it('a GCJ-02 and a BD-09 report of the same spot land in the WGS-84 zone, go to its unit and find each other', async () => {
    const gcj = as(SITE, 'GCJ02');
    const first = await report({ ...gcj, crs: 'gcj02', address: 'AMap pin' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
    expect(distanceMeters(first.body.location, SITE)).toBeLessThan(2);
    expect(first.body.location.crs).toBeUndefined();
    expect(first.body.reportedLocation).toEqual({ ...gcj, crs: 'gcj02' });

    const bd = as(SITE, 'BD09');
    const second = await report({ ...bd, crs: 'bd09' });
    expect(second.status).toBe(201);
    expect(distanceMeters(second.body.location, SITE)).toBeLessThan(2);
    expect(second.body.likelyDuplicates.map((d: { id: string }) => d.id)).toContain(first.body.id);

    // The same GCJ-02 numbers taken as WGS-84 (what happened before) land 600 m away, outside the zone.
    const naive = await report({ ...gcj, crs: 'wgs84' }, { category: 'sanitation.dead_animal' });
    expect(naive.body.unitId).toBeUndefined();
    expect(distanceMeters(naive.body.location, SITE)).toBeGreaterThan(500);
    const bdElsewhere = await report({ ...bd, crs: 'bd09' }, { category: 'sanitation.scattered_litter' });
    expect(bdElsewhere.body).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
  });

  it('reads give locations in the system asked for, within 2 m of what was sent', async () => {
    const gcj = as({ lat: SITE.lat + 0.0005, lon: SITE.lon }, 'GCJ02');
    const created = await report({ ...gcj, crs: 'gcj02' }, { category: 'sanitation.street_dirty' });
    const inGcj = await inject(gw, 'GET', `/v1/tickets/${created.body.id}?crs=gcj02`, { auth: gw.tenant.secretKey });
    expect(inGcj.body.location.crs).toBe('gcj02');
    expect(distanceMeters(inGcj.body.location, gcj)).toBeLessThan(2);
    const inBd = await inject(gw, 'GET', `/v1/tickets/by-number/${created.body.number}?crs=bd09`, { auth: gw.tenant.secretKey });
    expect(distanceMeters(inBd.body.location, as({ lat: SITE.lat + 0.0005, lon: SITE.lon }, 'BD09'))).toBeLessThan(2);
    const list = await inject(gw, 'GET', `/v1/tickets?crs=gcj02&category=sanitation.street_dirty`, { auth: gw.tenant.secretKey });
    expect(distanceMeters(list.body.items[0].location, gcj)).toBeLessThan(2);
    const plain = await inject(gw, 'GET', `/v1/tickets/${created.body.id}`, { auth: gw.tenant.secretKey });
    expect(distanceMeters(plain.body.location, { lat: SITE.lat + 0.0005, lon: SITE.lon })).toBeLessThan(2);
    expect((await inject(gw, 'GET', `/v1/tickets/${created.body.id}?crs=mars`, { auth: gw.tenant.secretKey })).body.error.code).toBe('CL_ERR_VALIDATION');
  });

  it('a command answers with the ticket in the system asked for, as a console on a Chinese map needs it; a bad crs changes nothing', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    // Outside every zone, so that nothing routes the reports before the test dispatches them.
    const OUTSIDE = { lat: 23.21, lon: 113.41 };
    const created = await server.tickets.create({ ...BIN_REPORT, location: { ...OUTSIDE, crs: 'wgs84' }, category: 'sanitation.scattered_litter' });
    expect(created.status).toBe('reported');
    const refused = await inject(gw, 'POST', `/v1/tickets/${created.id}/dispatch?crs=mars`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' } });
    expect(refused.body.error.code).toBe('CL_ERR_VALIDATION');
    expect((await server.tickets.get(created.id)).version).toBe(created.version);
    const { ticket } = await server.tickets.dispatch(created.id, { unitId: 'sanitation' }, { crs: 'gcj02' });
    expect(ticket).toMatchObject({ status: 'dispatched', location: { crs: 'gcj02' } });
    expect(distanceMeters(ticket.location, as(OUTSIDE, 'GCJ02'))).toBeLessThan(2);
    // Without crs, WGS-84 as stored.
    const other = await server.tickets.create({ ...BIN_REPORT, location: { ...OUTSIDE, crs: 'wgs84' }, category: 'sanitation.dead_animal' });
    const { ticket: plain } = await server.tickets.dispatch(other.id, { unitId: 'sanitation' });
    expect(plain.location).toMatchObject(OUTSIDE);
    expect(plain.location.crs).toBeUndefined();
  });

  it('a report answers with the new ticket in the system asked for, its point as sent beside it; a bad crs creates nothing', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const OUTSIDE = { lat: 23.23, lon: 113.43 };
    const gcj = as(OUTSIDE, 'GCJ02');
    const before = await gw.redis.client.zcard(tenantKeys(gw.tenant.id).index.all);
    const refused = await inject(gw, 'POST', '/v1/tickets?crs=mars', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, location: { ...gcj, crs: 'gcj02' } },
    });
    expect(refused.body.error.code).toBe('CL_ERR_VALIDATION');
    expect(await gw.redis.client.zcard(tenantKeys(gw.tenant.id).index.all)).toBe(before);

    // An AMap pin, answered for the same map: the ticket stays where the reporter's map put it.
    const created = await server.tickets.create({ ...BIN_REPORT, location: { ...gcj, crs: 'gcj02' }, category: 'sanitation.dead_animal' }, { crs: 'gcj02' });
    expect(created.location.crs).toBe('gcj02');
    expect(distanceMeters(created.location, gcj)).toBeLessThan(2);
    expect(created.reportedLocation).toEqual({ ...gcj, crs: 'gcj02' });
    // Stored in WGS-84, as a read without crs gives it; the same key sent again answers the same way.
    expect(distanceMeters((await server.tickets.get(created.id)).location, OUTSIDE)).toBeLessThan(2);
    const key = 'create-crs-replay-1';
    const first = await server.tickets.create({ ...BIN_REPORT, location: { ...gcj, crs: 'gcj02' } }, { crs: 'bd09', idempotencyKey: key });
    const again = await server.tickets.create({ ...BIN_REPORT, location: { ...gcj, crs: 'gcj02' } }, { crs: 'bd09', idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(distanceMeters(again.location, as(OUTSIDE, 'BD09'))).toBeLessThan(2);
    expect(again.location.crs).toBe('bd09');
  });

  it('a zone drawn in GCJ-02 holds the WGS-84 points it should, and is shown back as drawn', async () => {
    const center = { lat: 23.2, lon: 113.3 };
    const drawn = square(as(center, 'GCJ02'), 0.001);
    const created = await inject(gw, 'POST', '/v1/zones', {
      auth: gw.tenant.secretKey,
      body: {
        id: 'gcj-drawn',
        name: 'Drawn on AMap',
        type: 'grid',
        crs: 'gcj02',
        geometry: { type: 'Polygon', coordinates: drawn },
        routes: [{ categories: ['*'], unitId: 'municipal' }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.drawnIn).toBe('gcj02');
    // A WGS-84 report at the centre is inside; at the GCJ-02 numbers taken as WGS-84 it would not be.
    const inside = await report(center, { category: 'municipal.road_damage' });
    expect(inside.status, JSON.stringify(inside.body)).toBe(201);
    expect(inside.body.unitId).toBe('municipal');
    const shown = await inject(gw, 'GET', '/v1/zones/gcj-drawn?crs=gcj02', { auth: gw.tenant.secretKey });
    for (const [i, [lon, lat]] of shown.body.geometry.coordinates[0].entries())
      expect(distanceMeters({ lat, lon }, { lat: drawn[0]![i]![1], lon: drawn[0]![i]![0] })).toBeLessThan(2);
    const stored = await inject(gw, 'GET', '/v1/zones/gcj-drawn', { auth: gw.tenant.secretKey });
    const [lon0, lat0] = stored.body.geometry.coordinates[0][0];
    expect(distanceMeters({ lat: lat0, lon: lon0 }, { lat: center.lat - 0.001, lon: center.lon - 0.001 })).toBeLessThan(150);
    // crs without geometry says nothing: refused.
    expect((await inject(gw, 'PATCH', '/v1/zones/gcj-drawn', { auth: gw.tenant.secretKey, body: { crs: 'bd09' } })).body.error.code).toBe('CL_ERR_VALIDATION');
  });

  it('the tenant default, the key default, hotline rows and Open311 each say what system a point is in', async () => {
    const gcj = as(SITE, 'GCJ02');
    // A key that says its points are GCJ-02 (a mini-program's server, say).
    const rotated = await inject(gw, 'POST', '/v1/keys/rotate', { auth: gw.tenant.secretKey, body: { kind: 'publishable', defaultCrs: 'gcj02' } });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { allowedOrigins: [] } });
    const viaKey = await inject(gw, 'POST', '/v1/tickets', {
      key: rotated.body.key,
      body: { ...BIN_REPORT, category: 'sanitation.bulky_waste', location: gcj },
    });
    expect(viaKey.status, JSON.stringify(viaKey.body)).toBe(201);
    expect(distanceMeters(viaKey.body.location, SITE)).toBeLessThan(2);
    // The tenant's default applies to points that do not say, from callers whose key does not.
    expect((await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { defaultCrs: 'bd09' } })).status).toBe(200);
    const bd = as(SITE, 'BD09');
    const viaTenant = await report(bd, { category: 'sanitation.construction_waste' });
    expect(distanceMeters(viaTenant.body.location, SITE)).toBeLessThan(2);
    // Hotline rows name theirs (or take the tenant's).
    const hotline = await inject(gw, 'POST', '/v1/intake/hotline', {
      auth: gw.tenant.secretKey,
      body: { records: [{ source: '12345', externalId: 'H-CRS-1', category: 'sanitation.public_toilet', description: 'Dirty toilet', ...gcj, crs: 'gcj02' }] },
    });
    expect(hotline.status, JSON.stringify(hotline.body)).toBe(200);
    expect(hotline.body.created, JSON.stringify(hotline.body)).toHaveLength(1);
    const imported = await inject(gw, 'GET', `/v1/tickets/${hotline.body.created[0].id}`, { auth: gw.tenant.secretKey });
    expect(distanceMeters(imported.body.location, SITE)).toBeLessThan(2);
    await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { defaultCrs: 'wgs84' } });
    // Open311 is WGS-84 by its spec, whatever the tenant's default; crs= says otherwise.
    const form = new URLSearchParams({
      jurisdiction_id: gw.tenant.code,
      api_key: gw.tenant.secretKey,
      service_code: 'sanitation.dead_animal',
      lat: String(gcj.lat),
      long: String(gcj.lon),
      crs: 'gcj02',
      description: 'Dead bird',
    });
    const posted = await fetch(`${gw.url}/open311/v2/requests.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(posted.status, await posted.clone().text()).toBe(200);
    const [{ service_request_id: id }] = (await posted.json()) as [{ service_request_id: string }];
    const open311Ticket = await inject(gw, 'GET', `/v1/tickets/by-number/${id}`, { auth: gw.tenant.secretKey });
    expect(distanceMeters(open311Ticket.body.location, SITE)).toBeLessThan(2);
    const bad = await fetch(`${gw.url}/open311/v2/requests.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...Object.fromEntries(form), crs: 'mars' }),
    });
    expect(bad.status).toBe(400);
  });

  it('a badge that reports GCJ-02 arrives on site', async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', {
      auth: gw.tenant.secretKey,
      body: { kind: 'badge', name: 'WeChat badge', staffId: 'w-2', unitId: 'sanitation', crs: 'gcj02' },
    });
    expect(registered.status).toBe(201);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: registered.body.credential.username,
      password: registered.body.credential.password,
      reconnectPeriod: 0,
    });
    clients.push(client);
    const dispatcher = await gw.tenant.token('d', 'dispatcher');
    const worker = await gw.tenant.token('w-2', 'worker', { unitId: 'sanitation' });
    const ticket = await report(SITE, { category: 'sanitation.missed_collection' });
    await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-2' } });
    expect((await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/accept`, { auth: worker, body: {} })).body.ticket.status).toBe('accepted');
    // The badge stands at the site and says so in GCJ-02: taken as WGS-84 it would be 600 m away.
    const here = as(SITE, 'GCJ02');
    const t0 = Date.now() - 10_000;
    for (const i of [0, 1]) {
      await client.publishAsync(nativeTopic(gw.tenant.id, 'badge', registered.body.device.id, 'position'), JSON.stringify({ ts: t0 + i * 5000, ...here }), {
        qos: 1,
      });
    }
    await gw.telemetry!.settled();
    expect((await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: gw.tenant.secretKey })).body.status).toBe('on_site');
    // The live map in GCJ-02 shows it where the badge said it was.
    const fleet = await inject(gw, 'GET', '/v1/fleet?kind=badge&crs=gcj02', { auth: gw.tenant.secretKey });
    const mine = fleet.body.features.find((f: { properties: { deviceId: string } }) => f.properties.deviceId === registered.body.device.id);
    expect(distanceMeters({ lat: mine.geometry.coordinates[1], lon: mine.geometry.coordinates[0] }, here)).toBeLessThan(2);
  });
});
