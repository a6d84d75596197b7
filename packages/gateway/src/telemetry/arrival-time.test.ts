import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, sendBackForRework, startTestGateway, workerWithBadge, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import type { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';

const SITE = { lat: 23.1291, lon: 113.2644 };
const metersNorth = (m: number) => ({ lat: SITE.lat + m / 111_320, lon: SITE.lon });
const MINUTE = 60_000;
// The gateway's clock, set by the test: the ticket is worked 20 minutes ago, the positions arrive now.
let clock = Date.now() - 20 * MINUTE;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ arrivalEnterMeters: 30, arrivalExitMeters: 60, arrivalDwellSeconds: 30 }, { telemetry: true, now: () => new Date(clock) });
});
const terminals: Jt808Terminal[] = [];
afterAll(async () => {
  for (const terminal of terminals) terminal.close();
  await gw?.close();
});

/** A ticket at the site, given to `staffId` and accepted by them; its id. */
async function acceptedBy(staffId: string): Promise<string> {
  const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, location: SITE } });
  const dispatched = await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
    auth: gw.tenant.secretKey,
    body: { unitId: 'sanitation', assigneeId: staffId },
  });
  expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
  const worker = await gw.tenant.token(staffId, 'worker', { unitId: 'sanitation' });
  expect((await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/accept`, { auth: worker, body: {} })).status).toBe(200);
  return ticket.body.id as string;
}
const ticketNow = async (id: string) => (await inject(gw, 'GET', `/v1/tickets/${id}`, { auth: gw.tenant.secretKey })).body;
const lastEvent = async (id: string) => (await inject(gw, 'GET', `/v1/tickets/${id}/history`, { auth: gw.tenant.secretKey })).body.items.at(-1);
/** Whole seconds: a JT/T 808 fix's time is BCD to the second. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

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

  it("brings a truck's driver on site when the truck gets there: the JT/T 808 terminal their IC card is in, its blind-area batch", async () => {
    clock = Date.now() - 20 * MINUTE;
    const driver = { id: 'drv-wang', name: '王师傅', code: '440106198505051234' };
    const staff = await inject(gw, 'POST', '/v1/staff', {
      auth: gw.tenant.secretKey,
      body: { id: driver.id, name: driver.name, role: 'worker', unitId: 'sanitation', qualificationCode: driver.code },
    });
    expect(staff.status, JSON.stringify(staff.body)).toBe(201);
    const { deviceId, terminal } = await onlineJt808Vehicle(gw, '13911112222', terminals);
    expect(await terminal.answerTo(terminal.driverCard({ status: 'in', time: wholeSeconds(Date.now() - 25 * MINUTE), ...driver }))).toBe(0);
    const ticketId = await acceptedBy(driver.id);

    // The truck drove in out of coverage; its terminal sends the fixes it kept as one 0x0704 batch.
    clock = Date.now();
    const firstFix = wholeSeconds(clock - 10 * MINUTE);
    const fixes = [400, 150, 28, 12, 6].map((m, i) => ({ ...metersNorth(m), time: firstFix + i * 20_000 }));
    expect(await terminal.answerTo(terminal.batch(fixes))).toBe(0);
    await gw.telemetry!.settled();
    const arrived = await ticketNow(ticketId);
    expect(arrived.status).toBe('on_site');
    // Within 30 m from the third fix (28 m), 30 s of dwell by the fifth: arrived at the third.
    expect(arrived.arrivedAt).toBe(new Date(firstFix + 2 * 20_000).toISOString());
    expect(await lastEvent(ticketId)).toMatchObject({
      type: 'arrived',
      actor: { sub: driver.id, role: 'worker' },
      note: `Vehicle ${deviceId} within 6 m for 40 s`,
      data: { automatic: true, occurredAt: arrived.arrivedAt },
    });
  });

  it("counts each device's dwell apart: the truck parked 100 m off does not restart the count of the badge its driver walks in with", async () => {
    clock = Date.now() - 20 * MINUTE;
    const badge = await workerWithBadge(gw, 'drv-zhao', '赵师傅');
    const { terminal } = await onlineJt808Vehicle(gw, '13911113333', terminals, { staffId: 'drv-zhao' });
    const ticketId = await acceptedBy('drv-zhao');

    clock = Date.now();
    const t0 = wholeSeconds(clock - 5 * MINUTE);
    // The badge comes within reach; the truck, parked beyond the exit distance, reports in between.
    await walkIn(badge, [25], t0, 0);
    expect(await terminal.answerTo(terminal.report({ ...metersNorth(100), time: t0 + 10_000 }))).toBe(0);
    await gw.telemetry!.settled();
    await walkIn(badge, [10, 5], t0 + 20_000, 15_000);
    const arrived = await ticketNow(ticketId);
    // 35 s inside by the badge's own count: arrived at its first fix within reach.
    expect(arrived.status).toBe('on_site');
    expect(arrived.arrivedAt).toBe(new Date(t0).toISOString());
    expect((await lastEvent(ticketId)).note).toMatch(/^Badge /);
  });
});
