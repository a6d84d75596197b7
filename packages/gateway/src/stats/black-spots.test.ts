import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import type { BlackSpot } from '@civicloop/model';
import { fromWgs84 } from '@civicloop/model/crs';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { BlackSpots } from './black-spots.js';
import { cellOf } from '../geometry/grid-cells.js';
import { tenantKeys } from '../redis/keys.js';

const DAY = 86_400_000;
let clock = Date.parse('2026-09-01T02:00:00Z');
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ schedulerEnabled: false, duplicateRadiusMeters: 0 }, { now: () => new Date(clock) });
});
afterAll(async () => gw?.close());

// The same market corner, reported again and again (every point in one ~220 m grid cell).
const MARKET = { lat: 23.1351, lon: 113.3211 };
const nearMarket = (i: number) => ({ lat: MARKET.lat + (i % 3) * 0.0002, lon: MARKET.lon + (i % 2) * 0.0002 });
const spots = async (auth: string, status = '') => (await inject(gw, 'GET', `/v1/blackspots${status}`, { auth })).body.items as BlackSpot[];

describe('black spots', () => {
  it(
    'codes a cell with 5 tickets in 30 days, tracks it, escalates it at 3 ' + 'months and closes it out after a quiet period and a passing inspection',
    async () => {
      const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
      const supervisor = await gw.tenant.token('s-1', 'supervisor');
      expect(new Set([0, 1, 2, 3, 4, 5].map((i) => cellOf(nearMarket(i)))).size).toBe(1);

      // Four tickets over two weeks: not yet. Four elsewhere, spread over months: never.
      for (let i = 0; i < 4; i++) {
        clock += 3 * DAY;
        await server.tickets.create({ ...BIN_REPORT, location: nearMarket(i) });
        await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.2 + i * 0.01, lon: 113.4 } });
      }
      expect(await spots(gw.tenant.secretKey)).toEqual([]);

      // The fifth within 30 days codes it.
      clock += DAY;
      await server.tickets.create({ ...BIN_REPORT, category: 'sanitation.scattered_litter', location: nearMarket(4) });
      const [opened] = await spots(gw.tenant.secretKey);
      expect(opened).toMatchObject({
        code: `BS-${gw.tenant.code}-202609-001`,
        status: 'open',
        ticketsWhenOpened: 5,
        ticketsSince: 0,
        cell: cellOf(MARKET),
        inspections: [],
      });
      expect(Math.abs(opened!.center.lat - MARKET.lat)).toBeLessThan(0.002);
      // For a Chinese basemap, the centre in its system, saying so; WGS-84 when not asked.
      expect(opened!.center.crs).toBeUndefined();
      const [onAmap] = await server.blackSpots({ status: 'open', crs: 'gcj02' });
      expect(onAmap!.center).toEqual({ ...fromWgs84(opened!.center.lat, opened!.center.lon, 'gcj02'), crs: 'gcj02' });
      expect((await server.blackSpot(opened!.code, { crs: 'bd09' })).center).toEqual({
        ...fromWgs84(opened!.center.lat, opened!.center.lon, 'bd09'),
        crs: 'bd09',
      });

      // More tickets are tracked against it.
      clock += 5 * DAY;
      await server.tickets.create({ ...BIN_REPORT, location: nearMarket(5) });
      const tracked = (await inject(gw, 'GET', `/v1/blackspots/${opened!.code}`, { auth: supervisor })).body as BlackSpot;
      expect(tracked).toMatchObject({ ticketsSince: 1, lastTicketAt: new Date(clock).toISOString() });

      // A failed re-inspection opens a finding ticket linked to the spot.
      const failed = (
        await inject(gw, 'POST', `/v1/blackspots/${opened!.code}/inspections`, {
          auth: supervisor,
          body: { passed: false, note: 'Bins still overflowing at dusk', category: 'sanitation.bin_overflow' },
        })
      ).body;
      expect(failed).toMatchObject({ closed: false, reason: 'the inspection failed' });
      const finding = await server.tickets.get(failed.spot.inspections[0].findingTicketId);
      expect(finding).toMatchObject({ channel: 'inspection', externalId: `blackspot:${opened!.code}`, description: 'Bins still overflowing at dusk' });

      // A finding of an inspection round in the spot's cell is linked to it too.
      const roundFinding = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: supervisor }).tickets.create({
        ...BIN_REPORT,
        channel: 'inspection',
        location: nearMarket(2),
      });
      expect(roundFinding.externalId).toBe(`blackspot:${opened!.code}`);
      const elsewhere = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: supervisor }).tickets.create({
        ...BIN_REPORT,
        channel: 'inspection',
        location: { lat: 23.3, lon: 113.5 },
      });
      expect(elsewhere.externalId).toBeUndefined();

      // A passing inspection too soon after the last ticket does not close it out.
      clock += 10 * DAY;
      const early = (await inject(gw, 'POST', `/v1/blackspots/${opened!.code}/inspections`, { auth: supervisor, body: { passed: true } })).body;
      expect(early.closed).toBe(false);
      expect(early.reason).toMatch(/30 quiet days/);

      // Three months open: escalated, once.
      clock = Date.parse(opened!.openedAt) + 91 * DAY;
      const escalationTime = new Date(clock).toISOString();
      await gw.stats.runOnce();
      clock += DAY;
      await gw.stats.runOnce();
      const escalated = (await spots(supervisor))[0]!;
      expect(escalated.escalatedAt).toBe(escalationTime);

      // Quiet since, and a passing inspection: closed out; the cell may be coded afresh later.
      const closed = (
        await inject(gw, 'POST', `/v1/blackspots/${opened!.code}/inspections`, { auth: supervisor, body: { passed: true, note: 'Clean for a month' } })
      ).body;
      expect(closed).toMatchObject({ closed: true, spot: { status: 'closed', closedAt: new Date(clock).toISOString() } });
      expect(closed.spot.inspections.map((i: { passed: boolean }) => i.passed)).toEqual([false, true, true]);
      expect(await spots(supervisor, '?status=open')).toEqual([]);
      const again = await inject(gw, 'POST', `/v1/blackspots/${opened!.code}/inspections`, { auth: supervisor, body: { passed: true } });
      expect(again.body.error.code).toBe('CL_ERR_INVALID_TRANSITION');
    },
  );

  it("keeps a cell's counts for the window only, and escalates a spot once even from two gateways at once", async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const PIER = { lat: 23.1012, lon: 113.2507 };
    const cellKey = tenantKeys(gw.tenant.id).stats.cellDays(cellOf(PIER));
    // Three reports, then 40 days later two more: the old three are outside the window.
    for (let i = 0; i < 3; i++) await server.tickets.create({ ...BIN_REPORT, location: PIER });
    await gw.stats.runOnce();
    expect(Object.values(await gw.redis.client.hgetall(cellKey)).map(Number)).toEqual([3]);
    const ttl = await gw.redis.client.pttl(cellKey);
    expect(ttl).toBeGreaterThan(30 * DAY);
    expect(ttl).toBeLessThanOrEqual(31 * DAY);
    clock += 40 * DAY;
    for (let i = 0; i < 2; i++) await server.tickets.create({ ...BIN_REPORT, location: PIER });
    await gw.stats.runOnce();
    expect(Object.values(await gw.redis.client.hgetall(cellKey)).map(Number)).toEqual([2]);
    expect((await spots(gw.tenant.secretKey, '?status=open')).filter((s) => s.cell === cellOf(PIER))).toEqual([]);

    // Three more make five within 30 days: coded.
    for (let i = 0; i < 3; i++) await server.tickets.create({ ...BIN_REPORT, location: PIER });
    const [spot] = (await spots(gw.tenant.secretKey, '?status=open')).filter((s) => s.cell === cellOf(PIER));
    expect(spot).toMatchObject({ ticketsWhenOpened: 5, ticketsSince: 0 });

    clock += 91 * DAY;
    const [a, b] = [new BlackSpots(gw.services), new BlackSpots(gw.services)];
    const escalated = await Promise.all([a.escalateOld(gw.tenant.id, new Date(clock)), b.escalateOld(gw.tenant.id, new Date(clock))]);
    expect(escalated[0]! + escalated[1]!).toBe(1);
    expect((await inject(gw, 'GET', `/v1/blackspots/${spot!.code}`, { auth: gw.tenant.secretKey })).body.escalatedAt).toBe(new Date(clock).toISOString());
  });

  it('refuses bad inspections with a clear code', async () => {
    const [spot] = await spots(gw.tenant.secretKey);
    const supervisor = await gw.tenant.token('s-1', 'supervisor');
    expect((await inject(gw, 'POST', '/v1/blackspots/BS-NOPE-202601-001/inspections', { auth: supervisor, body: { passed: true } })).body.error.code).toBe(
      'CL_ERR_NOT_FOUND',
    );
    expect(
      (await inject(gw, 'POST', `/v1/blackspots/${spot!.code}/inspections`, { auth: await gw.tenant.token('w-1', 'worker'), body: { passed: true } })).body
        .error.code,
    ).toBe('CL_ERR_FORBIDDEN');
    expect((await inject(gw, 'POST', `/v1/blackspots/${spot!.code}/inspections`, { auth: supervisor, body: { passed: 'yes' } })).body.error.code).toBe(
      'CL_ERR_VALIDATION',
    );
  });
});
