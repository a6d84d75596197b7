import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, sendBackForRework, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

const SITE = { lat: 23.1291, lon: 113.2644 };
const metersNorth = (m: number) => ({ lat: SITE.lat + m / 111_320, lon: SITE.lon });
const MINUTE = 60_000;
// The gateway's clock, set by the test: the ticket is worked 20 minutes ago, the positions arrive now.
let clock = Date.now() - 20 * MINUTE;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ arrivalEnterMeters: 30, arrivalExitMeters: 60, arrivalDwellSeconds: 30 }, { telemetry: true, now: () => new Date(clock) });
});
afterAll(async () => gw?.close());

/** A badge's walk towards the site, sent late: one fix every `stepMs` from `firstFix`, each so many metres north of it; returns once processed. */
async function walkIn(
  badge: { device: { id: string }; credential: { username: string; password: string } },
  metres: number[],
  firstFix: number,
  stepMs: number,
) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, { ...badge.credential, reconnectPeriod: 0 });
  const topic = nativeTopic(gw.tenant.id, 'badge', badge.device.id, 'position');
  try {
    for (const [i, m] of metres.entries()) await client.publishAsync(topic, JSON.stringify({ ts: firstFix + i * stepMs, ...metersNorth(m) }), { qos: 1 });
    await gw.telemetry!.settled();
  } finally {
    await client.endAsync();
  }
}

describe('arrival on site from positions that come late', () => {
  it("is dated by the badge's own fix time of coming within reach, not by when the positions got through", async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', {
      auth: gw.tenant.secretKey,
      body: { kind: 'badge', name: 'Badge in a tunnel', staffId: 'w-2', unitId: 'sanitation', skills: ['cleaning'] },
    });
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: SITE } });
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
      auth: gw.tenant.secretKey,
      body: { unitId: 'sanitation', assigneeId: 'w-2' },
    });
    expect(dispatched.status).toBe(200);
    const worker = await gw.tenant.token('w-2', 'worker', { unitId: 'sanitation' });
    expect((await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/accept`, { auth: worker, body: {} })).status).toBe(200);
    const acceptedAt = clock;

    // The badge walked in about 17 minutes ago, out of coverage: it sends what it kept only now.
    clock = Date.now();
    const firstFix = acceptedAt + 3 * MINUTE;
    await walkIn(registered.body, [200, 100, 25, 10, 5, 8], firstFix, 15_000);
    const arrived = (await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: gw.tenant.secretKey })).body;
    expect(arrived.status).toBe('on_site');
    // Within 30 m from the third fix on (25 m), 30 s of dwell by the fifth: arrived at the third.
    expect(arrived.arrivedAt).toBe(new Date(firstFix + 2 * 15_000).toISOString());
    const event = (await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/history`, { auth: gw.tenant.secretKey })).body.items.at(-1);
    expect(event).toMatchObject({ type: 'arrived', at: new Date(clock).toISOString(), data: { automatic: true, occurredAt: arrived.arrivedAt } });
  });

  it('starts the rework of a ticket sent back to the worker when their badge comes back to the site, dated by its fix', async () => {
    clock = Date.now() - 20 * MINUTE;
    const registered = await inject(gw, 'POST', '/v1/devices', {
      auth: gw.tenant.secretKey,
      body: { kind: 'badge', name: 'Badge of a worker sent back', staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] },
    });
    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: SITE } });
    await sendBackForRework(gw, ticket.body.id, { staffId: 'w-1', unitId: 'sanitation' }, 'Bags left beside the bin');
    const sentBackAt = clock;

    clock = Date.now();
    const firstFix = sentBackAt + 5 * MINUTE;
    await walkIn(registered.body, [300, 120, 20, 12, 6], firstFix, 20_000);
    const back = (await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: gw.tenant.secretKey })).body;
    expect(back.status).toBe('on_site');
    const event = (await inject(gw, 'GET', `/v1/tickets/${ticket.body.id}/history`, { auth: gw.tenant.secretKey })).body.items.at(-1);
    // Within 30 m from the third fix (20 m), 30 s of dwell by the fifth: started at the third.
    expect(event).toMatchObject({ type: 'rework_started', data: { automatic: true, occurredAt: new Date(firstFix + 2 * 20_000).toISOString() } });
  });
});
