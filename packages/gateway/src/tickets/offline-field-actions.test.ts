import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// 09:00 on 23 November 2026 in the tenant's zone (Asia/Shanghai, UTC+8).
const START = Date.parse('2026-11-23T01:00:00Z');
const MINUTE = 60_000;
let clock = START;
const minute = (n: number) => new Date(START + n * MINUTE).toISOString();

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ schedulerEnabled: false, duplicateRadiusMeters: 0 }, { now: () => new Date(clock) });
});
afterAll(async () => gw?.close());

describe('field actions a worker took offline', () => {
  it('are dated when they were done, so a job done in time and sent late counts as in time', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
    });
    // Two overflowing bins (respond within 30 minutes, resolve within 3 hours), dispatched at 09:00.
    const [offline, online] = [
      await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.11, lon: 113.3 } }),
      await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.12, lon: 113.3 } }),
    ];
    for (const ticket of [offline, online]) await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });

    // The first is worked in an underground garage: accepted at 09:20, on site at 09:40, resolved
    // at 11:50, all on the phone; it gets a signal at 12:20 and sends the three.
    clock = START + 200 * MINUTE;
    await worker.tickets.accept(offline.id, { occurredAt: minute(20) });
    await worker.tickets.arrive(offline.id, { occurredAt: minute(40) });
    const resolved = await worker.tickets.resolve(offline.id, { photos: [{ ref: 'https://photos.example.org/a.jpg' }], occurredAt: minute(170) });
    expect(resolved.ticket).toMatchObject({ acceptedAt: minute(20), arrivedAt: minute(40), resolvedAt: minute(170), updatedAt: minute(200) });
    // The history keeps both times: when the gateway recorded the step, and when it was done.
    const history = await server.tickets.history(offline.id);
    expect(history.filter((event) => ['accepted', 'arrived', 'resolved'].includes(event.type)).map((event) => [event.at, event.data?.occurredAt])).toEqual([
      [minute(200), minute(20)],
      [minute(200), minute(40)],
      [minute(200), minute(170)],
    ]);
    // The second is worked online, and late.
    await worker.tickets.accept(online.id);
    await worker.tickets.arrive(online.id);
    await worker.tickets.resolve(online.id, { photos: [{ ref: 'https://photos.example.org/b.jpg' }] });

    await gw.stats.runOnce();
    const day = await server.stats({ from: '2026-11-23', to: '2026-11-23' });
    expect(day.groups[0]).toMatchObject({ created: 2, onTimeResponseRate: 0.5, onTimeCompletionRate: 0.5 });
  });

  it('refuses a time more than 5 minutes ahead of the gateway, changing nothing', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const ticket = await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.13, lon: 113.3 } });
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    const ahead = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/accept`, {
      auth: worker,
      headers: { 'x-civicloop-key': gw.tenant.publishableKey },
      body: { occurredAt: new Date(clock + 6 * MINUTE).toISOString() },
    });
    expect(ahead.status).toBe(400);
    expect(ahead.body.error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringContaining("check the phone's clock") });
    const notATime = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/accept`, {
      auth: worker,
      headers: { 'x-civicloop-key': gw.tenant.publishableKey },
      body: { occurredAt: '23/11/2026 09:20' },
    });
    expect(notATime.status).toBe(400);
    expect((await server.tickets.get(ticket.id)).status).toBe('dispatched');
  });
});
