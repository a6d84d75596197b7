import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { fromWgs84 } from '@civicloop/model/crs';
import { SseParser } from '../../../sdk/src/sse.js';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let hooks: Server;
let hookUrl: string;
const delivered: {
  type: string;
  crs?: string;
  data: {
    alert?: { type: string; deviceId: string; ticketId?: string; lat?: number; lon?: number };
    event?: { ticketId: string; data: { location?: unknown } };
  };
}[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ webhookAllowPrivateTargets: true, webhookPollMs: 40 }, { telemetry: true });
  hooks = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      delivered.push(JSON.parse(body));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await gw?.close();
  await new Promise<void>((resolve) => hooks.close(() => resolve()));
});

/** Staff's event stream, collecting `device` frames (and the ticket events' data); `query`: e.g. ?crs=gcj02. */
function deviceStream(auth: string, query = '') {
  const controller = new AbortController();
  const alerts: { type: string; deviceId: string; ticketId?: string; lat?: number; lon?: number }[] = [];
  const ticketEvents: { ticketId: string; type: string; data: { location?: unknown } }[] = [];
  const events: string[] = [];
  const opened = fetch(`${gw.url}/v1/events${query}`, { headers: { authorization: `Bearer ${auth}`, accept: 'text/event-stream' }, signal: controller.signal });
  void (async () => {
    const response = await opened;
    const parser = new SseParser();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          events.push(message.event);
          if (message.event === 'device') alerts.push(JSON.parse(message.data).alert);
          if (message.event === 'ticket') ticketEvents.push(JSON.parse(message.data).event);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { alerts, ticketEvents, events, opened, close: () => controller.abort() };
}

async function badge(staffId: string) {
  const res = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: { kind: 'badge', name: `Badge of ${staffId}`, staffId, unitId: 'sanitation' },
  });
  expect(res.status).toBe(201);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
    username: res.body.credential.username,
    password: res.body.credential.password,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const id = res.body.device.id as string;
  const event = (body: Record<string, unknown>) => client.publishAsync(nativeTopic(gw.tenant.id, 'badge', id, 'event'), JSON.stringify(body), { qos: 1 });
  return { id, event };
}

describe('device alerts reach people', () => {
  it('a fall opens an urgent ticket and, with a low battery, reaches the staff event stream and webhooks; residents see none', async () => {
    const hook = await inject(gw, 'POST', '/v1/webhooks', {
      auth: gw.tenant.secretKey,
      body: { url: hookUrl, events: ['device.fall', 'device.low_battery'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const staff = deviceStream(await gw.tenant.token('d-1', 'dispatcher'));
    const resident = deviceStream(await gw.tenant.token('resident-1', 'citizen'));
    await Promise.all([staff.opened, resident.opened]);
    const worker = await badge('w-1');
    const ts = Date.now() - 2000;
    await worker.event({ type: 'fall', ts, lat: 23.13, lon: 113.27, battery: 40 });
    // The same fall resent (QoS 1 redelivery): no second ticket, no second alert.
    await worker.event({ type: 'fall', ts, lat: 23.13, lon: 113.27, battery: 40 });
    await worker.event({ type: 'low_battery', ts: ts + 1000, battery: 5 });

    await expect.poll(() => staff.alerts.length).toBe(2);
    expect(staff.alerts.map((a) => a.type)).toEqual(['fall', 'low_battery']);
    const [fall] = staff.alerts;
    expect(fall).toMatchObject({ deviceId: worker.id, staffId: 'w-1', lat: 23.13, lon: 113.27 });
    const ticket = await inject(gw, 'GET', `/v1/tickets/${fall!.ticketId}`, { auth: gw.tenant.secretKey });
    expect(ticket.body).toMatchObject({ priority: 'urgent', channel: 'device', category: 'other.worker_sos' });
    expect(ticket.body.description).toContain('Fall detected');
    expect(staff.alerts[1]!.ticketId).toBeUndefined();

    await expect.poll(() => delivered.map((d) => d.type)).toEqual(['device.fall', 'device.low_battery']);
    expect(delivered[0]!.data.alert).toMatchObject({ type: 'fall', deviceId: worker.id, ticketId: fall!.ticketId });
    // The resident's stream carried the stream's ticket events of their own (none) and no alert.
    expect(resident.events).not.toContain('device');
    staff.close();
    resident.close();
  });

  it('gives the places in the system a reader asks for: the event stream with ?crs, a webhook with its crs', async () => {
    delivered.length = 0;
    const hook = await inject(gw, 'POST', '/v1/webhooks', {
      auth: gw.tenant.secretKey,
      body: { url: hookUrl, events: ['device.sos', 'ticket.reported'], crs: 'bd09' },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const staff = deviceStream(await gw.tenant.token('d-3', 'dispatcher'), '?crs=gcj02');
    await staff.opened;
    const worker = await badge('w-3');
    const at = { lat: 23.1291, lon: 113.2644 };
    await worker.event({ type: 'sos', ts: Date.now() - 1000, ...at });
    await expect.poll(() => staff.alerts.length).toBe(1);
    const gcj02 = fromWgs84(at.lat, at.lon, 'gcj02');
    const bd09 = fromWgs84(at.lat, at.lon, 'bd09');
    // Hundreds of metres from the WGS-84 point in Guangzhou, so a point left unconverted shows.
    expect(Math.abs(gcj02.lon - at.lon) + Math.abs(bd09.lon - at.lon)).toBeGreaterThan(0.005);
    expect(staff.alerts[0]).toMatchObject({ type: 'sos', ...gcj02 });
    const ticketId = staff.alerts[0]!.ticketId!;
    await expect.poll(() => staff.ticketEvents.find((e) => e.ticketId === ticketId)?.data.location).toEqual({ ...gcj02, crs: 'gcj02' });
    // The ticket itself is stored in WGS-84, as it was reported.
    expect((await inject(gw, 'GET', `/v1/tickets/${ticketId}`, { auth: gw.tenant.secretKey })).body.location).toMatchObject(at);

    await expect.poll(() => delivered.map((d) => d.type).sort()).toEqual(['device.sos', 'ticket.reported']);
    const sos = delivered.find((d) => d.type === 'device.sos')!;
    expect(sos).toMatchObject({ crs: 'bd09', data: { alert: { ticketId, ...bd09 } } });
    const reported = delivered.find((d) => d.type === 'ticket.reported')!;
    expect(reported).toMatchObject({ crs: 'bd09', data: { event: { ticketId } } });
    expect(reported.data.event!.data.location).toEqual({ ...bd09, crs: 'bd09' });
    staff.close();
    expect((await inject(gw, 'DELETE', `/v1/webhooks/${hook.body.id}`, { auth: gw.tenant.secretKey })).status).toBe(204);
  });

  it('a tenant whose policy says so keeps falls as alerts without a ticket', async () => {
    expect((await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { fallOpensTicket: false } })).status).toBe(200);
    const staff = deviceStream(await gw.tenant.token('d-2', 'dispatcher'));
    await staff.opened;
    const worker = await badge('w-2');
    await worker.event({ type: 'fall', ts: Date.now() - 1000, lat: 23.14, lon: 113.28 });
    await expect.poll(() => staff.alerts.length).toBe(1);
    expect(staff.alerts[0]).toMatchObject({ type: 'fall', deviceId: worker.id });
    expect(staff.alerts[0]!.ticketId).toBeUndefined();
    // An SOS still opens one.
    await worker.event({ type: 'sos', ts: Date.now() - 500, lat: 23.14, lon: 113.28 });
    await expect.poll(() => staff.alerts.length).toBe(2);
    expect(staff.alerts[1]).toMatchObject({ type: 'sos', ticketId: expect.any(String) });
    staff.close();
  });
});
