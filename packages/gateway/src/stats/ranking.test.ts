import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, inject, startTestGateway, type TestGateway, squareZone } from '@civicloop/test-support/gateway-harness.js';
import { compositeScore } from './ranking.js';

const START = Date.parse('2026-11-10T01:00:00Z');
let clock = START;
const at = (minutes: number) => (clock = START + minutes * 60_000);
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ schedulerEnabled: false, duplicateRadiusMeters: 0 }, { now: () => new Date(clock) });
});
afterAll(async () => gw?.close());

const inside = (west: number, south: number, i: number) => ({ lat: south + 0.001 + i * 0.002, lon: west + 0.005 });

describe('monthly ranking', () => {
  it('ranks villages by the documented composite score, worked out by hand', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
    });
    const supervisor = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: await gw.tenant.token('s-1', 'supervisor') });
    for (const [id, west] of [
      ['v-a', 113.3],
      ['v-b', 113.32],
      ['v-c', 113.34],
    ] as const) {
      await server.zones.create({ id, name: `Village ${id.slice(2).toUpperCase()}`, type: 'village', geometry: squareZone(west, 23.1) });
    }
    /** Reported at `t`, resolved after `resolveAfter` minutes (bin: 3 h limit), closed, rated. */
    const ticket = async (west: number, i: number, t: number, resolveAfter?: number, rating?: number) => {
      at(t);
      const created = await server.tickets.create({ ...BIN_REPORT, location: inside(west, 23.1, i) });
      if (resolveAfter === undefined) return;
      await server.tickets.dispatch(created.id, { unitId: 'sanitation', assigneeId: 'w-1' });
      await worker.tickets.accept(created.id);
      await worker.tickets.arrive(created.id);
      at(t + resolveAfter);
      await worker.tickets.resolve(created.id, { photos: [{ ref: 'https://photos.example.org/x.jpg' }] });
      await supervisor.tickets.verify(created.id, { outcome: 'pass' });
      if (rating) await server.tickets.feedback(created.id, { rating });
    };
    // Village A: 2 tickets, both fixed in time, rated 5.
    await ticket(113.3, 0, 0, 60, 5);
    await ticket(113.3, 1, 10, 90, 5);
    // Village B: 4 tickets; one fixed in time, one late (rated 2), two not fixed.
    await ticket(113.32, 0, 20, 100);
    await ticket(113.32, 1, 30, 300, 2);
    await ticket(113.32, 2, 40);
    await ticket(113.32, 3, 50);
    // Village C: no tickets at all.

    // By hand (most tickets of a village: 4):
    //   A: 35*1 + 25*1 + 20*1 + 20*(1 - 2/4) = 90
    //   B: 35*0.5 + 25*0 + 20*0.5 + 20*(1 - 4/4) = 27.5
    //   C: nothing to measure counts as perfect, no tickets: 100
    const ranking = (await inject(gw, 'GET', '/v1/rankings/monthly?month=2026-11&type=village&limit=2', { auth: gw.tenant.secretKey })).body;
    expect(ranking.zones).toBe(3);
    expect(ranking.best.map((z: { zoneId: string; score: number }) => [z.zoneId, z.score])).toEqual([
      ['v-c', 100],
      ['v-a', 90],
    ]);
    expect(ranking.worst.map((z: { zoneId: string; score: number }) => [z.zoneId, z.score])).toEqual([
      ['v-b', 27.5],
      ['v-a', 90],
    ]);
    expect(ranking.worst[0]).toMatchObject({ tickets: 4, onTimeCompletionRate: 0.5, satisfactionRate: 0, completionRate: 0.5, openBlackSpots: 0 });

    const csv = (await inject(gw, 'GET', '/v1/rankings/monthly?month=2026-11&type=village&format=csv', { auth: gw.tenant.secretKey })).body as string;
    expect(csv.startsWith('\ufeffrank,zone_id,')).toBe(true);
    expect(
      csv
        .trim()
        .split('\n')
        .map((line) => line.split(',').slice(0, 4).join(',')),
    ).toEqual(['rank,zone_id,name,score', '1,v-c,Village C,100', '2,v-a,Village A,90', '3,v-b,Village B,27.5']);

    // Another month: nothing reported, every village perfect; a bad month name is refused.
    const october = (await inject(gw, 'GET', '/v1/rankings/monthly?month=2026-10&type=village', { auth: gw.tenant.secretKey })).body;
    expect(october.best.map((z: { score: number }) => z.score)).toEqual([100, 100, 100]);
    expect((await inject(gw, 'GET', '/v1/rankings/monthly?month=2026-13&type=village', { auth: gw.tenant.secretKey })).body.error.code).toBe(
      'CL_ERR_VALIDATION',
    );
  });

  it('takes 5 points off per black spot still open in the zone', () => {
    const quiet = { created: 0, onTimeCompletionRate: null, satisfactionRate: null, completionRate: null };
    expect(compositeScore(quiet, 4, 0)).toBe(100);
    expect(compositeScore(quiet, 4, 2)).toBe(90);
    expect(compositeScore({ created: 4, onTimeCompletionRate: 0, satisfactionRate: 0, completionRate: 0 }, 4, 3)).toBe(0);
  });
});
