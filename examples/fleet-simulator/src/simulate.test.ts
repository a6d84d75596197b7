import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { runSimulation } from './simulate.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ arrivalDwellSeconds: 2 }, { telemetry: true });
});
afterAll(async () => gw?.close());

describe('the fleet simulator', () => {
  it('closes tickets end to end: report, nearest dispatch, badge walks there, automatic arrival, resolve, verify', async () => {
    const simulation = await runSimulation({
      baseUrl: gw.url,
      mqttUrl: `mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`,
      secretKey: gw.tenant.secretKey,
      vehicles: 2,
      workers: 3,
      tickMs: 100,
      speedup: 100,
      reportEveryTicks: 10,
      log: () => undefined,
    });
    try {
      for (let i = 0; i < 600 && simulation.stats.verified < 2; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await simulation.stop();
    }
    expect(simulation.stats.verified).toBeGreaterThanOrEqual(2);
    expect(simulation.stats.errors).toBe(0);

    const admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const closed = await admin.tickets.list({ status: 'closed' });
    const history = await admin.tickets.history(closed.items[0]!.id);
    // The test gateway runs no scheduler, so no follow-up request follows the close here.
    expect(history.map((e) => e.type)).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved', 'verified']);
    expect(history.find((e) => e.type === 'arrived')?.data).toMatchObject({ automatic: true });
    const live = await admin.fleet.live();
    expect(live.features.length).toBe(5);
  });
});
