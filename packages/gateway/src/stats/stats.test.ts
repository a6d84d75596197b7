import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, inject, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { cellOf } from '../geometry/grid-cells.js';

// 09:00 on 23 November 2026 in the tenant's zone (Asia/Shanghai, UTC+8).
const START = Date.parse('2026-11-23T01:00:00Z');
const MINUTE = 60_000;
let clock = START;
const at = (minutes: number) => {
  clock = START + minutes * MINUTE;
};

let redis: TestRedis;
let a: TestGateway;
let b: TestGateway;
beforeAll(async () => {
  redis = await startTestRedis();
  a = await startTestGateway({ schedulerEnabled: false }, { redis, now: () => new Date(clock) });
  b = await startTestGateway({ schedulerEnabled: false }, { redis, now: () => new Date(clock) });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

describe('KPIs on a fixed dataset', () => {
  it('match the figures worked out by hand, counted once with two gateways', async () => {
    const server = new CivicLoop({ baseUrl: a.url, apiKey: a.tenant.secretKey });
    const as = async (sub: string, role: 'worker' | 'supervisor', unitId?: string) =>
      new CivicLoop({ baseUrl: a.url, apiKey: a.tenant.publishableKey, token: await a.tenant.token(sub, role, unitId ? { unitId } : {}) });
    const sweeper = await as('w-1', 'worker', 'sanitation');
    const electrician = await as('w-3', 'worker', 'municipal');
    const supervisor = await as('s-1', 'supervisor');
    const place = (n: number) => ({ lat: 23.1 + n * 0.01, lon: 113.3 });

    // T1: overflowing bin (respond 30 min, resolve 3 h): accepted and resolved in time, closed, rated 5 the same day.
    at(0);
    const t1 = await server.tickets.create({ ...BIN_REPORT, location: place(1) });
    await server.tickets.dispatch(t1.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    at(10);
    await sweeper.tickets.accept(t1.id);
    at(20);
    await sweeper.tickets.arrive(t1.id);
    at(100);
    await sweeper.tickets.resolve(t1.id, { photos: [{ ref: 'https://photos.example.org/a.jpg' }] });
    at(110);
    await supervisor.tickets.verify(t1.id, { outcome: 'pass' });
    at(120);
    await server.tickets.feedback(t1.id, { rating: 5 });

    // T2: accepted late (45 min after dispatch) and resolved late (245 min), closed, rated 2 the next day: reopened.
    at(5);
    const t2 = await server.tickets.create({ ...BIN_REPORT, location: place(2) });
    await server.tickets.dispatch(t2.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    at(50);
    await sweeper.tickets.accept(t2.id);
    at(60);
    await sweeper.tickets.arrive(t2.id);
    at(250);
    await sweeper.tickets.resolve(t2.id, { photos: [{ ref: 'https://photos.example.org/b.jpg' }] });
    at(260);
    await supervisor.tickets.verify(t2.id, { outcome: 'pass' });

    // T3: a street light (respond 2 h), accepted in time, not resolved yet.
    at(10);
    const t3 = await server.tickets.create({ ...BIN_REPORT, category: 'municipal.street_light', location: place(3) });
    await server.tickets.dispatch(t3.id, { unitId: 'municipal', assigneeId: 'w-3' });
    at(20);
    await electrician.tickets.accept(t3.id);

    // T4: reported, still waiting in the queue.
    at(15);
    await server.tickets.create({ ...BIN_REPORT, location: place(4) });

    // Counted concurrently by both gateways' projectors, then T2's rating the next morning.
    await Promise.all([a.stats.runOnce(), b.stats.runOnce(), a.stats.runOnce(), b.stats.runOnce()]);
    at(24 * 60);
    await server.tickets.feedback(t2.id, { rating: 2 });
    await Promise.all([a.stats.runOnce(), b.stats.runOnce()]);

    // By hand: 4 reported; responded 3, in time 2; resolved 2 of 4, in time 1 of 2; rated 2,
    // satisfied 1; closed 2, rated the same day 1; handling 100 and 245 min, so the median falls
    // in the bucket up to 120 min and the 90th percentile in the one up to 360 min. No badge
    // checked in: attendance 0 of the 3 rostered workers; no vehicles: no online rate.
    const total = await server.stats({ from: '2026-11-23', to: '2026-11-23' });
    expect(total.groups).toEqual([
      {
        key: 'all',
        created: 4,
        byState: { reported: 1, dispatched: 1, accepted: 1, closed: 1 },
        onTimeResponseRate: 0.6667,
        completionRate: 0.5,
        onTimeCompletionRate: 0.5,
        satisfactionRate: 0.5,
        sameDayFollowUpRate: 0.5,
        handlingMinutes: { median: 120, p90: 360 },
        attendanceCoverage: 0,
        vehicleOnlineRate: null,
      },
    ]);

    const byUnit = await server.stats({ from: '2026-11-23', to: '2026-11-23', by: 'unit' });
    expect(byUnit.groups.map((g) => [g.key, g.created, g.byState, g.onTimeResponseRate, g.completionRate])).toEqual([
      ['-', 1, { reported: 1 }, null, 0],
      ['municipal', 1, { accepted: 1 }, 1, 0],
      ['sanitation', 2, { dispatched: 1, closed: 1 }, 0.5, 1],
    ]);
    const byCategory = await server.stats({ from: '2026-11-23', to: '2026-11-23', by: 'category' });
    expect(byCategory.groups.map((g) => [g.key, g.created])).toEqual([
      ['municipal.street_light', 1],
      ['sanitation.bin_overflow', 3],
    ]);
    const byDay = await server.stats({ from: '2026-11-22', to: '2026-11-24', by: 'day' });
    // The 24th has no reports, only the roster sampled at the second pass (nobody checked in).
    expect(byDay.groups.map((g) => [g.key, g.created, g.attendanceCoverage])).toEqual([
      ['2026-11-23', 4, 0],
      ['2026-11-24', 0, 0],
    ]);
    expect((await server.stats({ from: '2026-11-25', to: '2026-11-30' })).groups).toEqual([]);

    const csv = await inject(a, 'GET', '/v1/stats?from=2026-11-23&to=2026-11-23&by=unit&format=csv', { auth: a.tenant.secretKey });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    // Excel reads a CSV as UTF-8 only when it starts with the byte order mark.
    expect((csv.body as string).startsWith('\ufeffunit,created,')).toBe(true);
    const lines = (csv.body as string).trim().split('\n');
    expect(lines[0]).toMatch(/^unit,created,reported,dispatched,.*,handling_minutes_p90,attendance_coverage,vehicle_online_rate$/);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['-,1', 'municipal,1', 'sanitation,2']);
  });

  it('counts a report whose event predates events carrying the place, from the ticket itself', async () => {
    const server = new CivicLoop({ baseUrl: a.url, apiKey: a.tenant.secretKey });
    const keys = tenantKeys(a.tenant.id);
    await a.stats.runOnce();
    clock = Date.parse('2027-01-10T02:00:00Z');
    const spot = { lat: 23.21, lon: 113.41 };
    const ticket = await server.tickets.create({ ...BIN_REPORT, location: spot });
    // Replace the stream entry with one as older gateways wrote it: no place in the event.
    const [id, fields] = ((await redis.client.xrevrange(keys.events, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]!;
    const event = JSON.parse(fields[1]!);
    expect(event).toMatchObject({ ticketId: ticket.id, type: 'reported', data: { location: spot } });
    delete event.data.location;
    await redis.client.xdel(keys.events, id);
    await redis.client.xadd(keys.events, '*', 'e', JSON.stringify(event), ...fields.slice(2));

    await a.stats.runOnce();
    const [day] = (await server.stats({ from: '2027-01-10', to: '2027-01-10' })).groups;
    expect(day).toMatchObject({ key: 'all', created: 1, byState: { reported: 1 } });
    expect(await redis.client.hget(keys.stats.cellDays(cellOf(spot)), '20270110')).toBe('1');
  });

  it("passes over a batch of device alerts alone (they share the tenant's stream) and counts what follows", async () => {
    const fresh = await a.createTenant('S');
    const server = new CivicLoop({ baseUrl: a.url, apiKey: fresh.secretKey });
    const keys = tenantKeys(fresh.id);
    // An SOS before any ticket: the projector's first batch holds no ticket event at all.
    await redis.client.xadd(keys.events, '*', 'a', JSON.stringify({ type: 'sos', deviceId: 'b_1', deviceName: 'Badge 1', at: new Date(clock).toISOString() }));
    await a.stats.runOnce();
    expect(await redis.client.get(keys.stats.cursor)).not.toBeNull();
    clock = Date.parse('2027-01-11T02:00:00Z');
    await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.22, lon: 113.42 } });
    await a.stats.runOnce();
    const [day] = (await server.stats({ from: '2027-01-11', to: '2027-01-11' })).groups;
    expect(day).toMatchObject({ key: 'all', created: 1 });
  });

  it("counts every other tenant in a pass that one tenant's damaged key fails, and reports the failure", async () => {
    const [broken, healthy] = [await a.createTenant('B'), await a.createTenant('H')];
    await redis.client.set(tenantKeys(broken.id).blackSpotPending, 'not a hash');
    clock = Date.parse('2027-01-12T02:00:00Z');
    await new CivicLoop({ baseUrl: a.url, apiKey: healthy.secretKey }).tickets.create(BIN_REPORT);
    // The damaged tenant first, so that a pass which stopped at it would leave the other uncounted.
    const ids = vi.spyOn(a.services.tenants, 'ids').mockResolvedValue([broken.id, healthy.id]);
    await expect(a.stats.runOnce()).rejects.toThrow(/WRONGTYPE/);
    ids.mockRestore();
    expect(await redis.client.hget(tenantKeys(healthy.id).stats.day('20270112'), 'all|created')).toBe('1');
    expect(await redis.client.exists(tenantKeys(broken.id).stats.cursor)).toBe(0);
    await redis.client.del(tenantKeys(broken.id).blackSpotPending);
  });

  it('counts a batch whole or not at all: one damaged counter changes nothing, and once mended the batch is counted once', async () => {
    const tenant = await a.createTenant('W');
    const server = new CivicLoop({ baseUrl: a.url, apiKey: tenant.secretKey });
    const keys = tenantKeys(tenant.id);
    clock = Date.parse('2027-01-13T02:00:00Z');
    const places = [
      { lat: 23.11, lon: 113.31 },
      { lat: 23.15, lon: 113.35 },
      { lat: 23.19, lon: 113.39 },
    ];
    const tickets = [];
    for (const location of places) tickets.push(await server.tickets.create({ ...BIN_REPORT, location }));
    // The second report's cell counter damaged by hand: the batch fails where it is counted, after the day's counters and the first cell's.
    const damaged = keys.stats.cellDays(cellOf(places[1]!));
    await redis.client.set(damaged, 'not a hash');
    await expect(a.stats.catchUp(tenant.id)).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.client.hgetall(keys.stats.day('20270113'))).toEqual({});
    expect(await redis.client.exists(keys.stats.cellDays(cellOf(places[0]!)), keys.stats.cursor, ...tickets.map((t) => keys.stats.ticket(t.id)))).toBe(0);
    // Mended: the whole batch is counted, once.
    await redis.client.del(damaged);
    await a.stats.catchUp(tenant.id);
    await a.stats.catchUp(tenant.id);
    expect(await redis.client.hget(keys.stats.day('20270113'), 'all|created')).toBe('3');
    for (const place of places) expect(await redis.client.hget(keys.stats.cellDays(cellOf(place)), '20270113')).toBe('1');
  });

  it('refuses a bad range and a worker', async () => {
    const bad = await inject(a, 'GET', '/v1/stats?from=2026-11-30&to=2026-11-01', { auth: a.tenant.secretKey });
    expect(bad.body.error.code).toBe('CL_ERR_VALIDATION');
    const long = await inject(a, 'GET', '/v1/stats?from=2024-01-01&to=2026-01-01', { auth: a.tenant.secretKey });
    expect(long.body.error.code).toBe('CL_ERR_VALIDATION');
    const worker = await inject(a, 'GET', '/v1/stats?from=2026-11-01&to=2026-11-30', { auth: await a.tenant.token('w-1', 'worker') });
    expect(worker.body.error.code).toBe('CL_ERR_FORBIDDEN');
  });
});
