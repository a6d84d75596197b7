import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, workerWithBadge, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import type { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';

// A truck's driver changed by hand (PATCH staffId) while its terminal stays connected: the
// connection goes on with the new driver, on the gateway that holds it whichever gateway took
// the change. Arrival on site shows which driver it goes on with (no dwell here: one fix at the
// site is an arrival).
let gw: TestGateway;
let other: TestGateway;
const terminals: Jt808Terminal[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ arrivalDwellSeconds: 0 }, { telemetry: true });
  other = await startTestGateway({ arrivalDwellSeconds: 0 }, { telemetry: true, redis: gw.redis });
});
afterAll(async () => {
  for (const terminal of terminals) terminal.close();
  await other?.close();
  await gw?.close();
});

/** A ticket at the bin report's place, given to `staffId` and accepted by them. */
async function acceptedBy(staffId: string): Promise<{ id: string; location: { lat: number; lon: number } }> {
  const ticket = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body;
  await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: staffId } });
  const worker = await gw.tenant.token(staffId, 'worker', { unitId: 'sanitation' });
  expect((await inject(gw, 'POST', `/v1/tickets/${ticket.id}/accept`, { auth: worker, body: {} })).status).toBe(200);
  return ticket;
}
const statusOf = async (id: string) => (await inject(gw, 'GET', `/v1/tickets/${id}`, { auth: gw.tenant.secretKey })).body.status as string;

describe("a connected device's record changed by hand", () => {
  it('is what its connection goes on with: a new driver set on another gateway, then on its own', async () => {
    for (const [id, name] of [
      ['drv-first', '钱师傅'],
      ['drv-second', '孙师傅'],
      ['drv-third', '周师傅'],
    ] as const)
      await workerWithBadge(gw, id, name);
    const { deviceId, terminal } = await onlineJt808Vehicle(gw, '13922223333', terminals, { staffId: 'drv-first' });
    let second = Math.floor(Date.now() / 1000) - 600;
    const atSite = async (ticket: { location: { lat: number; lon: number } }) => {
      expect(await terminal.answerTo(terminal.report({ ...ticket.location, time: ++second * 1000 }))).toBe(0);
      await gw.telemetry!.settled();
    };

    // Changed through the other gateway: the one holding the terminal hears of it over Redis.
    expect((await inject(other, 'PATCH', `/v1/devices/${deviceId}`, { auth: gw.tenant.secretKey, body: { staffId: 'drv-second' } })).status).toBe(200);
    const secondJob = await acceptedBy('drv-second');
    await expect
      .poll(
        async () => {
          await atSite(secondJob);
          return statusOf(secondJob.id);
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe('on_site');

    // Changed on the gateway holding it: at once.
    expect((await inject(gw, 'PATCH', `/v1/devices/${deviceId}`, { auth: gw.tenant.secretKey, body: { staffId: 'drv-third' } })).status).toBe(200);
    const thirdJob = await acceptedBy('drv-third');
    await atSite(thirdJob);
    expect(await statusOf(thirdJob.id)).toBe('on_site');
  });

  it('is what an MQTT badge goes on with: a new wearer', async () => {
    const badge = await workerWithBadge(gw, 'w-before', '吴师傅');
    await workerWithBadge(gw, 'w-after', '郑师傅');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, { ...badge.credential, reconnectPeriod: 0 });
    try {
      // Connected before the change, as the badge stays.
      await client.publishAsync(
        nativeTopic(gw.tenant.id, 'badge', badge.device.id, 'position'),
        JSON.stringify({ ts: Date.now() - 60_000, lat: 23.1, lon: 113.2 }),
        { qos: 1 },
      );
      expect((await inject(gw, 'PATCH', `/v1/devices/${badge.device.id}`, { auth: gw.tenant.secretKey, body: { staffId: 'w-after' } })).status).toBe(200);
      const job = await acceptedBy('w-after');
      await client.publishAsync(
        nativeTopic(gw.tenant.id, 'badge', badge.device.id, 'position'),
        JSON.stringify({ ts: Date.now(), lat: job.location.lat, lon: job.location.lon }),
        { qos: 1 },
      );
      await gw.telemetry!.settled();
      expect(await statusOf(job.id)).toBe('on_site');
    } finally {
      await client.endAsync();
    }
  });
});
