import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { nativeTopic, signToken, type ZoneGeometry } from '@civicloop/model';
import { BIN_REPORT, inject, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// A street office's area, with a village inside it; both in Tianhe. [lon, lat] as GeoJSON has it.
const square = (west: number, south: number, east: number, north: number): ZoneGeometry => ({
  type: 'Polygon',
  coordinates: [
    [
      [west, south],
      [east, south],
      [east, north],
      [west, north],
      [west, south],
    ],
  ],
});
const STREET = square(113.3, 23.1, 113.36, 23.16);
const VILLAGE = square(113.32, 23.12, 113.33, 23.13);
// Each report at its own spot, more than DUPLICATE_RADIUS_METERS (150 m) from the others, so that
// none is a likely duplicate of another (those wait for a dispatcher; tested below).
let spots = 0;
const spread = (point: { lat: number; lon: number }) => ({ lat: point.lat, lon: point.lon + 0.0018 * (spots++ % 5) });
const VILLAGE_POINT = { lat: 23.121, lon: 113.3205 };
const STREET_POINT = { lat: 23.145, lon: 113.345 };
const OUTSIDE_POINT = { lat: 23.2, lon: 113.5 };
const IN_VILLAGE = () => spread({ ...VILLAGE_POINT, lat: VILLAGE_POINT.lat + 0.0018 * Math.floor(spots / 5) });
const IN_STREET_ONLY = () => spread({ ...STREET_POINT, lat: STREET_POINT.lat + 0.0018 * Math.floor(spots / 5) });
const OUTSIDE = () => spread({ ...OUTSIDE_POINT, lat: OUTSIDE_POINT.lat + 0.0018 * Math.floor(spots / 5) });

let gw: TestGateway;
let admin: CivicLoop;
const clients: MqttClient[] = [];
const as = async (sub: string, role: 'dispatcher' | 'worker' | 'supervisor', unitId?: string) =>
  new CivicLoop({
    baseUrl: gw.url,
    apiKey: gw.tenant.publishableKey,
    token: await signToken({ secretKey: gw.tenant.secretKey, sub, role, ...(unitId ? { unitId } : {}) }),
  });

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
  await admin.units.create({ id: 'village-crew', name: 'Village sanitation crew' });
  await admin.zones.create({
    id: 'linhe',
    name: 'Linhe street',
    type: 'street',
    geometry: STREET,
    routes: [
      { categories: ['sanitation.*'], unitId: 'sanitation' },
      { categories: ['*'], unitId: 'municipal' },
    ],
  });
  await admin.zones.create({
    id: 'shipai',
    name: 'Shipai village',
    type: 'village',
    parentId: 'linhe',
    geometry: VILLAGE,
    routes: [{ categories: ['sanitation.bin_overflow'], unitId: 'village-crew' }],
  });
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  await gw?.close();
});

describe('routing new tickets by zone and category', () => {
  it('sends a report to the unit of the most specific zone whose rule matches, and records why', async () => {
    const inVillage = await admin.tickets.create({ ...BIN_REPORT, location: IN_VILLAGE() });
    expect(inVillage).toMatchObject({ status: 'dispatched', unitId: 'village-crew' });
    expect(inVillage.sla?.resolveBy).toBeDefined();
    const [, routed] = await admin.tickets.history(inVillage.id);
    expect(routed).toMatchObject({ type: 'dispatched', actor: { sub: 'system:router', role: 'service' }, note: 'Routed by zone Shipai village (shipai)' });

    // The village has no rule for litter: its street's group rule applies.
    const litter = await admin.tickets.create({ ...BIN_REPORT, category: 'sanitation.scattered_litter', location: IN_VILLAGE() });
    expect(litter).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
    // Nor for a street light, anywhere in the street: the catch-all rule.
    const light = await admin.tickets.create({ ...BIN_REPORT, category: 'municipal.street_light', location: IN_STREET_ONLY() });
    expect(light).toMatchObject({ status: 'dispatched', unitId: 'municipal' });
    // The same overflowing bin outside the village goes to the street's sanitation unit.
    expect(await admin.tickets.create({ ...BIN_REPORT, location: IN_STREET_ONLY() })).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
  });

  it('leaves a report outside every zone in the dispatcher queue', async () => {
    const outside = await admin.tickets.create({ ...BIN_REPORT, location: OUTSIDE() });
    expect(outside.status).toBe('reported');
    const queue = await admin.tickets.list({ status: 'reported' }).toArray();
    expect(queue.map((t) => t.id)).toContain(outside.id);
  });

  it('takes a zone whose positions carry altitudes, as KML exports give them, and keeps it without them', async () => {
    // A park east of the others, outlined as a GeoJSON converted from KML: [lon, lat, altitude].
    const withAltitude = (ring: [number, number][], altitude: number) => ring.map(([lon, lat]) => [lon, lat, altitude]);
    const outline = (square(113.4, 23.05, 113.41, 23.06) as { coordinates: [number, number][][] }).coordinates[0]!;
    const created = await inject(gw, 'POST', '/v1/zones', {
      auth: gw.tenant.secretKey,
      body: {
        id: 'kml-park',
        name: 'Park from KML',
        type: 'park',
        geometry: { type: 'Polygon', coordinates: [withAltitude(outline, 12.5)] },
        routes: [{ categories: ['*'], unitId: 'municipal' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.geometry).toEqual({ type: 'Polygon', coordinates: [outline] });
    expect((await admin.zones.get('kml-park')).geometry).toEqual({ type: 'Polygon', coordinates: [outline] });
    // Drawn in GCJ-02 too: brought to WGS-84, two numbers a position, and a patch of the outline alike.
    const patched = await inject(gw, 'PATCH', '/v1/zones/kml-park', {
      auth: gw.tenant.secretKey,
      body: { crs: 'gcj02', geometry: { type: 'MultiPolygon', coordinates: [[withAltitude(outline, 0)]] } },
    });
    expect(patched.status).toBe(200);
    const ring = patched.body.geometry.coordinates[0][0] as number[][];
    expect(ring.every((position) => position.length === 2)).toBe(true);
    expect(ring[0]![0]).not.toBe(outline[0]![0]);
    // The outline moved by GCJ-02's offset (hundreds of metres): a report at its new centre goes to the park's unit.
    const middle = (axis: 0 | 1) => (Math.min(...ring.map((p) => p[axis]!)) + Math.max(...ring.map((p) => p[axis]!))) / 2;
    const inPark = await admin.tickets.create({ ...BIN_REPORT, location: { lat: middle(1), lon: middle(0) } });
    expect(inPark).toMatchObject({ status: 'dispatched', unitId: 'municipal' });
    expect((await inject(gw, 'DELETE', '/v1/zones/kml-park', { auth: gw.tenant.secretKey })).status).toBe(204);
  });

  it('assigns the nearest checked-in worker of the routed unit with the skills, whose badge gets the assignment', async () => {
    const res = await inject(gw, 'POST', '/v1/devices', {
      auth: gw.tenant.secretKey,
      body: { kind: 'badge', name: 'Li', staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] },
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: res.body.credential.username,
      password: res.body.credential.password,
      reconnectPeriod: 0,
    });
    clients.push(client);
    const id = res.body.device.id as string;
    await client.publishAsync(nativeTopic(gw.tenant.id, 'badge', id, 'position'), JSON.stringify({ ts: Date.now(), lat: 23.146, lon: 113.345 }), { qos: 1 });
    await client.publishAsync(nativeTopic(gw.tenant.id, 'badge', id, 'event'), JSON.stringify({ type: 'check_in', ts: Date.now() }), { qos: 1 });
    await client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', id, 'cmd'), { qos: 1 });
    const command = new Promise<Record<string, unknown>>((resolve) => client.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()))));

    const ticket = await admin.tickets.create({ ...BIN_REPORT, location: IN_STREET_ONLY() });
    expect(ticket).toMatchObject({ status: 'dispatched', unitId: 'sanitation', assigneeId: 'w-1' });
    expect(await command).toMatchObject({ type: 'assignment', ticketId: ticket.id });
    // The badge's PUBACK takes the command out of its outbox: done before the next test looks at Redis.
    await expect.poll(async () => (await inject(gw, 'GET', `/v1/devices/${id}/state`, { auth: gw.tenant.secretKey })).body.waiting).toEqual([]);
  });

  it('refuses a bad zone with a clear code and writes nothing', async () => {
    const before = await snapshotRedis(gw.redis.client);
    const open = {
      type: 'Polygon',
      coordinates: [
        [
          [113.3, 23.1],
          [113.31, 23.1],
          [113.31, 23.11],
          [113.3, 23.11],
        ],
      ],
    };
    const cases: [unknown, string][] = [
      [{ id: 'z1', name: 'Open ring', type: 'grid', geometry: open }, 'CL_ERR_VALIDATION'],
      [
        { id: 'z2', name: 'Nowhere', type: 'grid', geometry: square(113.3, 23.1, 113.31, 23.11), routes: [{ categories: ['*'], unitId: 'no-such-unit' }] },
        'CL_ERR_UNKNOWN_UNIT',
      ],
      [
        {
          id: 'z3',
          name: 'Bad code',
          type: 'grid',
          geometry: square(113.3, 23.1, 113.31, 23.11),
          routes: [{ categories: ['sanitation.no_such'], unitId: 'sanitation' }],
        },
        'CL_ERR_UNKNOWN_CATEGORY',
      ],
      [{ id: 'z4', name: 'Orphan', type: 'grid', parentId: 'nope', geometry: square(113.3, 23.1, 113.31, 23.11) }, 'CL_ERR_NOT_FOUND'],
      [{ id: 'z5', name: 'Lat 91', type: 'grid', geometry: square(113.3, 23.1, 113.31, 91) }, 'CL_ERR_VALIDATION'],
      // GeoJSON allows an altitude as a third number, nothing after it, and numbers only.
      [
        { id: 'z6', name: 'Four numbers', type: 'grid', geometry: { type: 'Polygon', coordinates: [[...(open.coordinates[0] ?? []), [113.3, 23.1, 0, 1]]] } },
        'CL_ERR_VALIDATION',
      ],
      [
        {
          id: 'z7',
          name: 'Altitude as text',
          type: 'grid',
          geometry: { type: 'Polygon', coordinates: [[...(open.coordinates[0] ?? []), [113.3, 23.1, '0']]] },
        },
        'CL_ERR_VALIDATION',
      ],
      [{ id: 'linhe', name: 'Again', type: 'street', geometry: STREET }, 'CL_ERR_ALREADY_EXISTS'],
    ];
    for (const [body, code] of cases) {
      const res = await inject(gw, 'POST', '/v1/zones', { auth: gw.tenant.secretKey, body });
      expect(res.body.error?.code, JSON.stringify(body)).toBe(code);
    }
    const asWorker = await inject(gw, 'POST', '/v1/zones', { auth: await gw.tenant.token('w-1', 'worker'), body: cases[1]![0] });
    expect(asWorker.body.error.code).toBe('CL_ERR_FORBIDDEN');
    expect((await inject(gw, 'DELETE', '/v1/zones/linhe', { auth: gw.tenant.secretKey })).body.error.code).toBe('CL_ERR_VALIDATION');
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });
});

describe('returning a ticket that is not ours, and asking for more time', () => {
  it('a unit returns a ticket with a reason: it waits in the queue, unassigned, for a dispatcher', async () => {
    const ticket = await admin.tickets.create({ ...BIN_REPORT, location: IN_VILLAGE() });
    const crew = await as('v-1', 'worker', 'village-crew');
    const claimed = await crew.tickets.accept(ticket.id);
    expect(claimed.ticket).toMatchObject({ status: 'accepted', assigneeId: 'v-1' });
    const returned = await crew.tickets.return(ticket.id, { reason: 'Inside the market: the market company cleans it' });
    expect(returned.ticket).toMatchObject({ status: 'reported' });
    expect(returned.ticket.unitId).toBeUndefined();
    expect(returned.ticket.sla).toBeUndefined();
    expect(returned.event).toMatchObject({ type: 'returned', data: { reason: 'Inside the market: the market company cleans it', unitId: 'village-crew' } });
    const dispatcher = await as('d-1', 'dispatcher');
    expect((await dispatcher.tickets.dispatch(ticket.id, { unitId: 'sanitation' })).ticket).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
  });

  it('a worker asks for an extension; a dispatcher approves one (the deadline moves) and refuses another', async () => {
    const dispatcher = await as('d-1', 'dispatcher');
    const worker = await as('w-2', 'worker', 'sanitation');
    const ticket = await admin.tickets.create({ ...BIN_REPORT, location: OUTSIDE() });
    const dispatched = (await dispatcher.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-2' })).ticket;
    await worker.tickets.accept(ticket.id);

    const asked = await worker.tickets.requestExtension(ticket.id, { minutes: 120, reason: 'Replacement bin arrives this afternoon' });
    expect(asked.ticket.extension).toMatchObject({ status: 'pending', minutes: 120, requestedBy: { sub: 'w-2' } });
    expect(asked.ticket.status).toBe('accepted');
    await expect(worker.tickets.requestExtension(ticket.id, { minutes: 60, reason: 'again' })).rejects.toMatchObject({ code: 'CL_ERR_EXTENSION_PENDING' });
    await expect(worker.tickets.reviewExtension(ticket.id, { approve: true })).rejects.toMatchObject({ code: 'CL_ERR_FORBIDDEN' });

    const approved = await dispatcher.tickets.reviewExtension(ticket.id, { approve: true, note: 'fine' });
    expect(approved.event).toMatchObject({ type: 'extension_approved', data: { minutes: 120 } });
    expect(Date.parse(approved.ticket.sla!.resolveBy) - Date.parse(dispatched.sla!.resolveBy)).toBe(120 * 60_000);
    expect(approved.ticket.sla!.respondBy).toBe(dispatched.sla!.respondBy);
    expect(approved.ticket.extension).toMatchObject({ status: 'approved', decidedBy: { sub: 'd-1' } });

    await worker.tickets.requestExtension(ticket.id, { minutes: 600, reason: 'Still waiting' });
    const refused = await dispatcher.tickets.reviewExtension(ticket.id, { approve: false, note: 'Use the spare bin' });
    expect(refused.event?.type).toBe('extension_refused');
    expect(refused.ticket.sla!.resolveBy).toBe(approved.ticket.sla!.resolveBy);
    await expect(dispatcher.tickets.reviewExtension(ticket.id, { approve: true })).rejects.toMatchObject({ code: 'CL_ERR_NO_EXTENSION_PENDING' });
    await expect(worker.tickets.requestExtension(ticket.id, { minutes: 20_000, reason: 'Too long' })).rejects.toMatchObject({ code: 'CL_ERR_VALIDATION' });

    const other = await as('w-1', 'worker', 'sanitation');
    await expect(other.tickets.requestExtension(ticket.id, { minutes: 60, reason: 'not mine' })).rejects.toMatchObject({ code: 'CL_ERR_FORBIDDEN' });
  });
});

describe('likely duplicates', () => {
  it('flags a report near an open ticket of the same category, holds it for a dispatcher, who merges it', async () => {
    const place = { lat: 23.155, lon: 113.305 };
    const metersEast = (m: number) => ({ lat: place.lat, lon: place.lon + m / (111_320 * Math.cos((place.lat * Math.PI) / 180)) });
    const first = await admin.tickets.create({ ...BIN_REPORT, location: place });
    expect(first).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
    expect(first.likelyDuplicates).toBeUndefined();

    // A resident reports the same bin 40 m away: held, and the resident is not shown other people's tickets.
    const residentToken = await gw.tenant.token('resident-dup', 'citizen');
    const resident = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: residentToken });
    const second = await resident.tickets.create({ ...BIN_REPORT, location: metersEast(40) });
    expect(second.status).toBe('reported');
    expect(second).not.toHaveProperty('likelyDuplicates');

    // A server sees them, nearest first; another category at the same spot is not a duplicate.
    const third = await admin.tickets.create({ ...BIN_REPORT, location: metersEast(10) });
    expect(third.status).toBe('reported');
    expect(third.likelyDuplicates!.map((d) => [d.id, d.status])).toEqual([
      [first.id, 'dispatched'],
      [second.id, 'reported'],
    ]);
    expect(third.likelyDuplicates![0]!.distanceMeters).toBeGreaterThanOrEqual(9);
    expect(third.likelyDuplicates![0]!.distanceMeters).toBeLessThanOrEqual(11);
    const light = await admin.tickets.create({ ...BIN_REPORT, category: 'municipal.street_light', location: metersEast(10) });
    expect(light.likelyDuplicates).toBeUndefined();
    expect(light.status).toBe('dispatched');

    // The dispatcher finds them from the queue and merges: the resident now follows the original.
    const dispatcher = await as('d-1', 'dispatcher');
    expect((await dispatcher.tickets.likelyDuplicates(second.id)).map((d) => d.id)).toEqual([third.id, first.id]);
    const merged = await dispatcher.tickets.merge(second.id, { into: first.id });
    expect(merged.ticket).toMatchObject({ status: 'duplicate', duplicateOf: first.id });
    expect((await resident.tickets.get(first.id)).followers).toContain('resident-dup');
    expect((await resident.tickets.list().toArray()).map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
    await dispatcher.tickets.merge(third.id, { into: first.id });

    // Once the original is closed, the same spot starts afresh.
    const worker = await as('w-1', 'worker', 'sanitation');
    await dispatcher.tickets.reassign(first.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await worker.tickets.accept(first.id);
    await worker.tickets.arrive(first.id);
    await worker.tickets.resolve(first.id, { photos: [{ ref: 'https://photos.example.org/after.jpg' }] });
    await (await as('s-1', 'supervisor')).tickets.verify(first.id, { outcome: 'pass' });
    const later = await admin.tickets.create({ ...BIN_REPORT, location: place });
    expect(later.likelyDuplicates).toBeUndefined();
    expect(later.status).toBe('dispatched');
  });
});

describe('inspection rounds', () => {
  it("draws the week's round from the tenant's zones, the same again for the same seed", async () => {
    await admin.zones.create({ id: 'tianhe', name: 'Tianhe district', type: 'district', geometry: square(113.2, 23.0, 113.5, 23.3) });
    await admin.zones.update('linhe', { parentId: 'tianhe' });
    await admin.zones.create({
      id: 'tiyu-west',
      name: 'Tiyu West village',
      type: 'village',
      parentId: 'linhe',
      geometry: square(113.31, 23.13, 113.315, 23.135),
    });
    await admin.zones.create({
      id: 'sports-centre',
      name: 'Sports centre',
      type: 'other',
      parentId: 'tianhe',
      mustCheck: true,
      geometry: square(113.33, 23.14, 113.335, 23.145),
    });
    const round = (await inject(gw, 'GET', '/v1/inspections/round?week=2026-W47&seed=audit', { auth: await gw.tenant.token('s-1', 'supervisor') })).body;
    expect(round).toMatchObject({ week: '2026-W47', seed: 'audit', districts: [{ districtId: 'tianhe', mustCheck: 'sports-centre' }] });
    expect([...round.districts[0].villages].sort()).toEqual(['shipai', 'tiyu-west']);
    const again = (await inject(gw, 'GET', '/v1/inspections/round?week=2026-W47&seed=audit', { auth: await gw.tenant.token('s-2', 'supervisor') })).body;
    expect(again).toEqual(round);
    const bad = await inject(gw, 'GET', '/v1/inspections/round?week=2026-47', { auth: gw.tenant.secretKey });
    expect(bad.body.error.code).toBe('CL_ERR_VALIDATION');
    const worker = await inject(gw, 'GET', '/v1/inspections/round?week=2026-W47', { auth: await gw.tenant.token('w-1', 'worker') });
    expect(worker.body.error.code).toBe('CL_ERR_FORBIDDEN');
  });
});
