import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal, locationBody } from '@civicloop/test-support/jt808-terminal.js';
import { curlHeld } from '@civicloop/test-support/thingsboard-http.js';
import { tenantKeys } from '../redis/keys.js';

// Two gateways on one Redis, as behind a load balancer: a device connected to one is given a
// command through the other.
let first: TestGateway;
let second: TestGateway;
const clients: MqttClient[] = [];
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  first = await startTestGateway({}, { telemetry: true });
  second = await startTestGateway({}, { telemetry: true, redis: first.redis });
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  for (const terminal of terminals) terminal.close();
  await second?.close();
  await first?.close();
});

/** Dispatches a new ticket to w-1 through `gateway`; resolves with its number. */
async function dispatchToW1(gateway: TestGateway): Promise<string> {
  const ticket = await inject(gateway, 'POST', '/v1/tickets', { auth: first.tenant.secretKey, body: BIN_REPORT });
  expect(ticket.status).toBe(201);
  const dispatched = await inject(gateway, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
    auth: first.tenant.secretKey,
    body: { unitId: 'sanitation', assigneeId: 'w-1' },
  });
  expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
  return ticket.body.number as string;
}

describe('commands across gateways', () => {
  it('reach a badge on the other gateway, wait while it is away, and come once when it is back on either', async () => {
    const registered = await inject(first, 'POST', '/v1/devices', {
      auth: first.tenant.secretKey,
      body: { kind: 'badge', name: 'Badge of w-1', staffId: 'w-1', unitId: 'sanitation' },
    });
    expect(registered.status).toBe(201);
    const { device, credential } = registered.body as { device: { id: string }; credential: { username: string; password: string } };
    const topic = nativeTopic(first.tenant.id, 'badge', device.id, 'cmd');
    const received: { number: string; commandId: string }[] = [];
    const connectTo = async (gateway: TestGateway, subscribe = true) => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.telemetry!.tcpPort}`, {
        username: credential.username,
        password: credential.password,
        clientId: `badge-${device.id}`,
        clean: false,
        reconnectPeriod: 0,
      });
      clients.push(client);
      client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as { number: string; commandId: string }));
      if (subscribe) await client.subscribeAsync(topic, { qos: 1 });
      return client;
    };
    const outbox = tenantKeys(first.tenant.id).mqttOutbox(device.id);

    // Connected to the second gateway, given the command through the first.
    let badge = await connectTo(second);
    const one = await dispatchToW1(first);
    await expect.poll(() => received.map((r) => r.number)).toEqual([one]);
    await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);

    // Away: the command waits, and the device's state says so to whoever asks on either gateway;
    // back on the first gateway, it comes, once, and nothing waits any more.
    await badge.endAsync();
    const givenFrom = Date.now();
    const two = await dispatchToW1(second);
    expect(await first.redis.client.llen(outbox)).toBe(1);
    const state = await inject(first, 'GET', `/v1/devices/${device.id}/state`, { auth: first.tenant.secretKey });
    expect(state.status).toBe(200);
    const { waiting } = state.body as { waiting: { commandId: string; type: string; number: string; givenAt: string }[] };
    expect(waiting).toEqual([{ commandId: expect.any(String), type: 'assignment', ticketId: expect.any(String), number: two, givenAt: expect.any(String) }]);
    expect(Date.parse(waiting[0]!.givenAt)).toBeGreaterThanOrEqual(givenFrom);
    badge = await connectTo(first);
    await expect.poll(() => received.map((r) => r.number)).toEqual([one, two]);
    expect(received.at(-1)!.commandId).toBe(waiting[0]!.commandId);
    await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);
    expect((await inject(second, 'GET', `/v1/devices/${device.id}/state`, { auth: first.tenant.secretKey })).body.waiting).toEqual([]);

    // Sent but not acknowledged when the badge went away (its PUBACK withheld): back on the same
    // gateway with its persistent session, it gets the command once, from the outbox, and not a
    // second time from the broker's own session store.
    await badge.endAsync();
    const silent = await mqtt.connectAsync(`mqtt://127.0.0.1:${second.telemetry!.tcpPort}`, {
      username: credential.username,
      password: credential.password,
      clientId: `badge-${device.id}`,
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(silent);
    silent.handleMessage = () => undefined;
    const withheld: string[] = [];
    silent.on('message', (_topic, payload) => withheld.push((JSON.parse(payload.toString()) as { number: string }).number));
    await silent.subscribeAsync(topic, { qos: 1 });
    const four = await dispatchToW1(first);
    await expect.poll(() => withheld).toEqual([four]);
    silent.end(true);
    expect(await first.redis.client.llen(outbox)).toBe(1);
    // Its session on this gateway still holds the subscription: it need not subscribe again.
    badge = await connectTo(second, false);
    await expect.poll(() => received.map((r) => r.number)).toEqual([one, two, four]);
    await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);

    // A last one through the second gateway: it arrives after the others, and nothing came twice.
    const five = await dispatchToW1(second);
    await expect.poll(() => received.map((r) => r.number)).toEqual([one, two, four, five]);
    expect(new Set(received.map((r) => r.commandId)).size).toBe(4);
    await badge.endAsync();
  });

  it('reach a JT/T 808 terminal on the other gateway as a question the driver answers there, and ask it where it is', async () => {
    await first.services.directory.createStaff(first.tenant.id, { id: 'w-9', name: 'Driver', role: 'worker', unitId: 'sanitation' });
    const terminalId = '13800138009';
    const registered = await inject(first, 'POST', '/v1/devices', {
      auth: first.tenant.secretKey,
      body: { kind: 'vehicle', name: 'Truck 9', protocol: 'jt808', terminalId, staffId: 'w-9' },
    });
    expect(registered.status).toBe(201);
    const terminal = new Jt808Terminal(terminalId);
    terminals.push(terminal);
    await terminal.connect(second.telemetry!.jt808Port!);
    const { code } = await terminal.register();
    expect(await terminal.authenticate(code!)).toBe(0);

    const ticket = await inject(first, 'POST', '/v1/tickets', { auth: first.tenant.secretKey, body: BIN_REPORT });
    await inject(first, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, { auth: first.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-9' } });
    const question = await terminal.next((m) => m.id === 0x8302);
    const outbox = tenantKeys(first.tenant.id).jt808Outbox(registered.body.device.id);
    expect(await first.redis.client.llen(outbox)).toBe(1);
    // Confirmed (0x0001 answering the question), it leaves the outbox.
    terminal.send(0x0001, Buffer.from([(question.serial >> 8) & 0xff, question.serial & 0xff, 0x83, 0x02, 0]));
    await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);
    // Sent by the gateway holding the terminal only, once: no second question is left unread.
    expect(terminal.received.filter((m) => m.id === 0x8302 || m.id === 0x8300)).toHaveLength(0);
    // The driver taps 接单 (0x0302) on the terminal the second gateway holds: the ticket is accepted.
    const chosen = terminal.send(0x0302, Buffer.from([(question.serial >> 8) & 0xff, question.serial & 0xff, 1]));
    expect(await terminal.answerTo(chosen)).toBe(0);
    expect((await inject(first, 'GET', `/v1/tickets/${ticket.body.id}`, { auth: first.tenant.secretKey })).body).toMatchObject({
      status: 'accepted',
      assigneeId: 'w-9',
    });

    // Asked where it is through the gateway that does not hold it: the holder sends the location
    // query (0x8201), stores the terminal's answer (0x0201), and the asker answers with it.
    const asked = inject(first, 'POST', `/v1/devices/${registered.body.device.id}/locate`, { auth: first.tenant.secretKey });
    const query = await terminal.next((m) => m.id === 0x8201);
    const time = Date.now() - 1000;
    terminal.send(0x0201, Buffer.concat([Buffer.from([(query.serial >> 8) & 0xff, query.serial & 0xff]), locationBody({ lat: 23.15, lon: 113.33, time })]));
    const answer = await asked;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ lat: 23.15, lon: 113.33, fixTime: new Date(Math.floor(time / 1000) * 1000).toISOString() });
    expect(await first.redis.client.llen(outbox)).toBe(0);
    // Gone from both: offline, so neither asks it.
    terminal.close();
    await expect
      .poll(async () => (await inject(first, 'POST', `/v1/devices/${registered.body.device.id}/locate`, { auth: first.tenant.secretKey })).body.error?.code)
      .toBe('CL_ERR_DEVICE_UNREACHABLE');
  });

  it('reach ThingsBoard HTTP firmware holding its long poll on the other gateway, at once', async () => {
    await first.services.directory.createStaff(first.tenant.id, { id: 'w-8', name: 'Driver Eight', role: 'worker', unitId: 'sanitation' });
    const registered = await inject(first, 'POST', '/v1/devices', {
      auth: first.tenant.secretKey,
      body: { kind: 'vehicle', name: 'DTU on truck 8', staffId: 'w-8' },
    });
    expect(registered.status).toBe(201);
    const { device, credential } = registered.body as { device: { id: string }; credential: { password: string } };
    const poll = curlHeld('GET', `${second.url}/api/v1/${credential.password}/rpc?timeout=60000`);
    await expect.poll(() => second.telemetry!.commandPolls.size).toBe(1);

    const ticket = await inject(first, 'POST', '/v1/tickets', { auth: first.tenant.secretKey, body: BIN_REPORT });
    await inject(first, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, { auth: first.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-8' } });
    const answered = await poll.answer;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ method: 'assignment', params: { ticketId: ticket.body.id, number: ticket.body.number } });
    await expect.poll(() => first.redis.client.llen(tenantKeys(first.tenant.id).mqttOutbox(device.id))).toBe(0);
  });

  it('give each command to one poll only when the firmware holds one on each gateway', async () => {
    const registered = await inject(first, 'POST', '/v1/devices', { auth: first.tenant.secretKey, body: { kind: 'vehicle', name: 'DTU on truck 10' } });
    const { device, credential } = registered.body as { device: { id: string }; credential: { password: string } };
    const polls = [first, second].map((gateway) => curlHeld('GET', `${gateway.url}/api/v1/${credential.password}/rpc?timeout=60000`));
    await expect.poll(() => first.telemetry!.commandPolls.size + second.telemetry!.commandPolls.size).toBe(2);
    const record = (await first.services.devices.get(first.tenant.id, device.id))!;
    // Given through the first, whose own poll looks at once while the second hears of it over Redis.
    await first.telemetry!.sendCommand(first.tenant.id, record, { type: 'report_location' });
    const answered = await Promise.race(polls.map((poll) => poll.answer));
    expect(JSON.parse(answered.body)).toMatchObject({ method: 'reportLocation' });
    await expect.poll(() => first.telemetry!.commandPolls.size + second.telemetry!.commandPolls.size).toBe(1);
    await first.telemetry!.sendCommand(first.tenant.id, record, { type: 'report_location' });
    const bodies = (await Promise.all(polls.map((poll) => poll.answer))).map((r) => JSON.parse(r.body) as { params: { commandId: string } });
    expect(new Set(bodies.map((b) => b.params.commandId)).size).toBe(2);
  });
});
