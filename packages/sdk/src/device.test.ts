import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BadgeCommand } from '@civicloop/model';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CivicLoop } from './client.js';
import { connectDevice, type DeviceClient } from './device.js';

let gw: TestGateway;
let admin: CivicLoop;
const devices: DeviceClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.close()));
  await gw?.close();
});

async function device(input: Parameters<CivicLoop['devices']['register']>[0]) {
  const registered = await admin.devices.register(input);
  const client = connectDevice({
    url: `mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`,
    tenantId: gw.tenant.id,
    kind: registered.device.kind,
    deviceId: registered.credential.username,
    password: registered.credential.password,
    mqtt: { reconnectPeriod: 200 },
  });
  devices.push(client);
  await client.ready();
  return { registered, client };
}

describe('the SDK device client', () => {
  it('publishes positions that the HTTP client then sees on the live map', async () => {
    const { registered, client } = await device({ kind: 'vehicle', name: 'Sweeper', plate: '粤A·1' });
    await client.publishPosition({ lat: 23.131, lon: 113.27, speed: 12 });
    const state = await admin.devices.state(registered.device.id);
    expect(state.online).toBe(true);
    expect(state.position?.geometry.coordinates).toEqual([113.27, 23.131]);
    expect([state.refused, state.ignored, state.driver, state.waiting]).toEqual([null, null, null, []]);
    const live = await admin.fleet.live({ kind: 'vehicle' });
    expect(live.features.map((f) => f.properties.deviceId)).toContain(registered.device.id);
  });

  it('buffers while offline and sends everything, in order, after reconnecting', async () => {
    const { registered, client } = await device({ kind: 'vehicle', name: 'Tunnel truck' });
    const offline = new Promise<void>((resolve) => client.once('offline', () => resolve()));
    gw.telemetry!.disconnect(gw.tenant.id, registered.device.id);
    await offline;
    const t0 = Date.now() - 10_000;
    const sent = [0, 1, 2, 3, 4].map((i) => client.publishPosition({ ts: t0 + i * 1000, lat: 23.1 + i / 1000, lon: 113.2 }));
    expect(client.pending).toBeGreaterThan(0);
    await Promise.all(sent);
    expect(client.pending).toBe(0);
    const track = await admin.devices.track(registered.device.id, { from: new Date(t0 - 1000), to: new Date(t0 + 5000) });
    expect(track.properties.times).toEqual([0, 1, 2, 3, 4].map((i) => new Date(t0 + i * 1000).toISOString()));
  });

  it('receives the assignment when its wearer is dispatched a ticket', async () => {
    const { client } = await device({ kind: 'badge', name: 'Badge of W1', staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] });
    const command = new Promise<BadgeCommand>((resolve) => client.once('command', resolve));
    const ticket = await admin.tickets.create(BIN_REPORT);
    await admin.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    expect(await command).toMatchObject({ type: 'assignment', ticketId: ticket.id, number: ticket.number });
  });

  it('hears that a ticket was taken from its wearer, after the assignment', async () => {
    const { client } = await device({ kind: 'badge', name: 'Badge of W2', staffId: 'w-2', unitId: 'sanitation' });
    const received: BadgeCommand[] = [];
    client.on('command', (command) => received.push(command));
    const ticket = await admin.tickets.create(BIN_REPORT);
    await admin.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-2' });
    await expect.poll(() => received.length, { timeout: 60_000 }).toBe(1);
    await admin.tickets.reassign(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await expect.poll(() => received.map((c) => c.type), { timeout: 60_000 }).toEqual(['assignment', 'withdrawal']);
    expect(received[1]).toEqual({ type: 'withdrawal', ticketId: ticket.id, number: ticket.number, reason: 'reassigned', commandId: expect.any(String) });
  });

  it("lists the devices a person's assignments go to, and shows the assignment waiting on them", async () => {
    const replaced = await admin.devices.register({ kind: 'badge', name: 'Old badge of W2', staffId: 'w-2', unitId: 'sanitation' });
    const badge = await admin.devices.register({ kind: 'badge', name: 'Badge of W2', staffId: 'w-2', unitId: 'sanitation' });
    const truck = await admin.devices.register({ kind: 'vehicle', name: 'Truck of W2', staffId: 'w-2', unitId: 'sanitation' });
    const listed = await admin.devices.list({ staffId: 'w-2' });
    // The newer badge took the older one's place, as a dispatch finds them.
    expect(listed.map((d) => d.id).sort()).toEqual([badge.device.id, truck.device.id].sort());
    expect((await admin.devices.list()).map((d) => d.id)).toContain(replaced.device.id);

    const ticket = await admin.tickets.create(BIN_REPORT);
    await admin.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-2' });
    for (const { device } of [badge, truck])
      expect((await admin.devices.state(device.id)).waiting).toEqual([
        { commandId: expect.any(String), type: 'assignment', ticketId: ticket.id, number: ticket.number, givenAt: expect.any(String) },
      ]);
    expect((await admin.devices.state(replaced.device.id)).waiting).toEqual([]);
  });

  it('streams positions to the HTTP client', async () => {
    const { registered, client } = await device({ kind: 'vehicle', name: 'Streamed' });
    // Open means the gateway has fixed where the stream starts: a position published after it arrives.
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const subscription = admin.fleet.positions({ throttleMs: 0, kind: 'vehicle' }, { onOpen: () => opened() });
    const first = (async () => {
      for await (const feature of subscription) if (feature.properties.deviceId === registered.device.id) return feature;
      return undefined;
    })();
    await open;
    await client.publishPosition({ lat: 23.2, lon: 113.4 });
    expect((await first)?.geometry.coordinates).toEqual([113.4, 23.2]);
    subscription.close();
  });
});
