import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import type { Jt808Terminal, PlatformMessage } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';
import { tenantKeys } from '../../redis/keys.js';

// A terminal holds some alarm bits (SOS among them) set in every report until the platform
// confirms them by hand (0x8203, JT/T 808-2013 8.25; table 24: "cleared once answered"). The
// gateway raises an alert only when a bit comes on, so from a terminal nobody confirmed, a second
// SOS would never be seen. A dispatcher confirms them with POST /v1/devices/{id}/alarms/confirm.
let gw: TestGateway;
let dispatcher: string;
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  dispatcher = await gw.tenant.token('d-alarms', 'dispatcher');
});
afterAll(async () => {
  for (const t of terminals) t.close();
  await gw?.close();
});

let numbers = 13600000000;
const truck = () => onlineJt808Vehicle(gw, String(++numbers), terminals);

const SOS = 1;
const AREA_IN_OUT = 1 << 20;
const confirmAlarms = (deviceId: string, body: unknown, auth = dispatcher) => inject(gw, 'POST', `/v1/devices/${deviceId}/alarms/confirm`, { auth, body });
const alertsOf = async (deviceId: string) =>
  (await gw.redis.client.xrange(tenantKeys(gw.tenant.id).events, '-', '+'))
    .flatMap(([, fields]) => (fields[0] === 'a' ? [JSON.parse(fields[1]!)] : []))
    .filter((alert) => alert.deviceId === deviceId)
    .map((alert) => ({ alarm: alert.type === 'alarm' ? alert.alarm : alert.type, ticketId: alert.ticketId, alert }));
const outboxLength = (deviceId: string) => gw.redis.client.llen(tenantKeys(gw.tenant.id).jt808Outbox(deviceId));
const confirmReceipt = (terminal: Jt808Terminal, message: PlatformMessage) =>
  terminal.send(0x0001, Buffer.from([message.serial >> 8, message.serial & 0xff, message.id >> 8, message.id & 0xff, 0]));

describe("a dispatcher confirms a terminal's alarms", () => {
  it('sends 0x8203 with the bits confirmed, kept until the terminal has it; once the terminal clears SOS, its next SOS is a new alert', async () => {
    const { deviceId, terminal } = await truck();
    const base = Date.now() - 60_000;
    const report = (i: number, alarm: number) => terminal.answerTo(terminal.report({ lat: 23.15, lon: 113.32, time: base + i * 1000, alarm }));
    // Pressed once, SOS stays set in every report, then the truck also leaves its area: two alerts.
    for (const [i, alarm] of [SOS, SOS, SOS | AREA_IN_OUT].entries()) expect(await report(i, alarm)).toBe(0);
    expect((await alertsOf(deviceId)).map((a) => a.alarm)).toEqual(['sos', 'area_in_out']);

    const res = await confirmAlarms(deviceId, { alarms: ['sos', 'area_in_out'] });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({ deviceId, alarms: ['sos', 'area_in_out'], commandId: expect.any(String) });
    // Every console and webhook hears it was confirmed, and by whom.
    expect((await alertsOf(deviceId)).at(-1)!.alert).toEqual({
      type: 'alarm_confirmed',
      alarms: ['sos', 'area_in_out'],
      deviceId,
      deviceKind: 'vehicle',
      deviceName: expect.stringMatching(/^Truck /),
      at: expect.any(String),
      confirmedBy: { sub: 'd-alarms', role: 'dispatcher' },
    });
    const confirmation = await terminal.next((m) => m.id === 0x8203);
    // Serial 0: every report of those alarms; bits 0 and 20, as the reports set them.
    expect(confirmation.body.toString('hex')).toBe('000000100001');
    const state = (await inject(gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: dispatcher })).body;
    expect(state.waiting).toEqual([{ commandId: res.body.commandId, type: 'alarm_confirmation', alarms: ['sos', 'area_in_out'], givenAt: expect.any(String) }]);
    confirmReceipt(terminal, confirmation);
    await expect.poll(() => outboxLength(deviceId)).toBe(0);

    // The terminal cleared the bits; the driver presses SOS again: a new alert and a new urgent ticket.
    expect(await report(3, 0)).toBe(0);
    expect(await report(4, SOS)).toBe(0);
    const alerts = await alertsOf(deviceId);
    expect(alerts.map((a) => a.alarm)).toEqual(['sos', 'area_in_out', 'alarm_confirmed', 'sos']);
    expect(alerts[3]!.ticketId).toEqual(expect.any(String));
    expect(alerts[3]!.ticketId).not.toBe(alerts[0]!.ticketId);
  });

  it('reaches a terminal that was away when it is back; refuses a worker, an alarm not held until confirmed, none, one twice: nothing queued', async () => {
    const { deviceId, terminal, code } = await truck();
    terminal.close();
    const res = await confirmAlarms(deviceId, { alarms: ['sos'] });
    expect(res.status).toBe(202);
    await terminal.connect(gw.telemetry!.jt808Port!);
    expect(await terminal.authenticate(code)).toBe(0);
    expect((await terminal.next((m) => m.id === 0x8203)).body.toString('hex')).toBe('000000000001');
    expect(await outboxLength(deviceId)).toBe(1);

    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    expect((await confirmAlarms(deviceId, { alarms: ['sos'] }, worker)).body.error.code).toBe('CL_ERR_FORBIDDEN');
    for (const body of [{ alarms: ['overspeed'] }, { alarms: [] }, { alarms: ['sos', 'sos'] }, {}, { alarms: ['sos'], extra: 1 }]) {
      const refused = await confirmAlarms(deviceId, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBe('CL_ERR_VALIDATION');
    }
    expect((await confirmAlarms('no-such-device', { alarms: ['sos'] })).body.error.code).toBe('CL_ERR_NOT_FOUND');
    expect(await outboxLength(deviceId)).toBe(1);
    expect((await alertsOf(deviceId)).map((a) => a.alarm)).toEqual(['alarm_confirmed']);
  });

  it("confirms the SOS the first time someone acts on the ticket it opened, as by them; the gateway's own routing does not", async () => {
    // A zone that routes such reports to the sanitation unit, around where the truck is.
    const [lat, lon, d] = [23.35, 113.52, 0.01];
    const ring = [
      [lon - d, lat - d],
      [lon + d, lat - d],
      [lon + d, lat + d],
      [lon - d, lat + d],
      [lon - d, lat - d],
    ];
    const zone = await inject(gw, 'POST', '/v1/zones', {
      auth: gw.tenant.secretKey,
      body: {
        id: 'sos-routing',
        name: 'SOS routing',
        type: 'grid',
        geometry: { type: 'Polygon', coordinates: [ring] },
        routes: [{ categories: ['other.*'], unitId: 'sanitation' }],
      },
    });
    expect(zone.status, JSON.stringify(zone.body)).toBe(201);
    const { deviceId, terminal } = await truck();
    expect(await terminal.answerTo(terminal.report({ lat, lon, time: Date.now() - 5000, alarm: SOS }))).toBe(0);
    const [sos] = await alertsOf(deviceId);
    expect(sos!.alarm).toBe('sos');
    const ticketId = sos!.ticketId as string;
    // Routed by the gateway itself: nobody has seen the SOS yet, so nothing is confirmed.
    const history = (await inject(gw, 'GET', `/v1/tickets/${ticketId}/history`, { auth: dispatcher })).body.items as { type: string; actor: { sub: string } }[];
    expect(history.map((e) => [e.type, e.actor.sub])).toEqual([
      ['reported', `device:${deviceId}`],
      ['dispatched', 'system:router'],
    ]);
    expect((await alertsOf(deviceId)).map((a) => a.alarm)).toEqual(['sos']);
    expect(await outboxLength(deviceId)).toBe(0);

    // A dispatcher sends someone: the SOS is confirmed, as by them.
    const sent = await inject(gw, 'POST', `/v1/tickets/${ticketId}/reassign`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const confirmation = await terminal.next((m) => m.id === 0x8203);
    expect(confirmation.body.toString('hex')).toBe('000000000001');
    expect((await alertsOf(deviceId)).at(-1)!.alert).toMatchObject({
      type: 'alarm_confirmed',
      alarms: ['sos'],
      confirmedBy: { sub: 'd-alarms', role: 'dispatcher' },
    });
    confirmReceipt(terminal, confirmation);
    await expect.poll(() => outboxLength(deviceId)).toBe(0);

    // Acting again does not confirm again.
    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    const again = await inject(gw, 'POST', `/v1/tickets/${ticketId}/accept`, { auth: worker, body: {} });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect((await alertsOf(deviceId)).map((a) => a.alarm)).toEqual(['sos', 'alarm_confirmed']);
    expect(await outboxLength(deviceId)).toBe(0);
  });

  it('records the confirmation of a phone that reports by OsmAnd, which has no way to take a command, and queues it nothing', async () => {
    const phone = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Phone with OsmAnd' } });
    expect(phone.status).toBe(201);
    const { device, credential } = phone.body as { device: { id: string }; credential: { password: string } };
    const sos = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&lat=23.12&lon=113.25&timestamp=${Math.floor(Date.now() / 1000) - 5}&alarm=sos`, {
      method: 'POST',
    });
    expect(sos.status).toBe(200);
    const res = await confirmAlarms(device.id, { alarms: ['sos'] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ deviceId: device.id, alarms: ['sos'], commandId: null });
    expect((await inject(gw, 'GET', `/v1/devices/${device.id}/state`, { auth: dispatcher })).body.waiting).toEqual([]);
    expect((await alertsOf(device.id)).map((a) => a.alarm)).toEqual(['sos', 'alarm_confirmed']);
  });

  it('sends an MQTT badge an alarm_confirmation command on its command topic', async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Badge with SOS' } });
    expect(registered.status).toBe(201);
    const { device, credential } = registered.body as { device: { id: string }; credential: { username: string; password: string } };
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, { ...credential, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const received: unknown[] = [];
      client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString())));
      await client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', device.id, 'cmd'), { qos: 1 });
      const res = await confirmAlarms(device.id, { alarms: ['sos'] });
      expect(res.status).toBe(202);
      await expect.poll(() => received).toEqual([{ type: 'alarm_confirmation', alarms: ['sos'], commandId: res.body.commandId }]);
    } finally {
      await client.endAsync();
    }
  });
});
