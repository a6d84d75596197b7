import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlackSpot } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';

const DAY = 86_400_000;
let clock = Date.parse('2026-10-01T02:00:00Z');
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ schedulerEnabled: false, duplicateRadiusMeters: 0 }, { now: () => new Date(clock) });
});
afterAll(async () => gw?.close());

const MARKET = { lat: 23.1351, lon: 113.3211 };
const report = async () => {
  clock += DAY;
  const created = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: MARKET } });
  expect(created.status).toBe(201);
};
const spot = async (): Promise<BlackSpot> => {
  const listed = await inject(gw, 'GET', '/v1/blackspots', { auth: gw.tenant.secretKey });
  expect(listed.body.items).toHaveLength(1);
  return listed.body.items[0] as BlackSpot;
};

/** The gateway's next black-spot note fails as a call does when the gateway stops or loses Redis after counting a batch. */
function failNextNote(): void {
  const redis = gw.services.redis as unknown as { civicloopBlackSpotNote: (...args: unknown[]) => Promise<unknown> };
  const real = redis.civicloopBlackSpotNote;
  redis.civicloopBlackSpotNote = async () => {
    redis.civicloopBlackSpotNote = real;
    throw new Error('Connection is closed.');
  };
}

describe('a counted batch whose black-spot note did not happen', () => {
  it('is noted before the next batch is counted, once, however many gateways try', async () => {
    for (let i = 0; i < 5; i++) await report();
    const opened = await spot();
    expect(opened).toMatchObject({ status: 'open', ticketsWhenOpened: 5, ticketsSince: 0 });

    // A sixth report is counted, and the note that would track it against the spot fails.
    await report();
    const sixthAt = new Date(clock).toISOString();
    failNextNote();
    await expect(gw.stats.catchUp(gw.tenant.id)).rejects.toThrow('Connection is closed.');
    const pending = await gw.services.redis.hgetall(tenantKeys(gw.tenant.id).blackSpotPending);
    expect(Object.values(pending).map((reports) => JSON.parse(reports))).toEqual([[[opened.cell, { count: 1, at: sixthAt }]]]);

    // Two gateways finishing it at once note it once.
    await Promise.all([gw.stats.blackSpots.notePending(gw.tenant.id), gw.stats.blackSpots.notePending(gw.tenant.id)]);
    expect(await spot()).toMatchObject({ code: opened.code, ticketsSince: 1, lastTicketAt: sixthAt });
    expect(await gw.services.redis.exists(tenantKeys(gw.tenant.id).blackSpotPending)).toBe(0);

    // And the next pass, after another failed note, finishes it before counting on.
    await report();
    failNextNote();
    await expect(gw.stats.catchUp(gw.tenant.id)).rejects.toThrow('Connection is closed.');
    await report();
    expect(await spot()).toMatchObject({ ticketsSince: 3, lastTicketAt: new Date(clock).toISOString() });
    expect(await gw.services.redis.exists(tenantKeys(gw.tenant.id).blackSpotPending)).toBe(0);
  });
});
