import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { decodeStoredPosition } from '../store/stored-position.js';

let gw: TestGateway;
let tcpUrl: string;
let wsUrl: string;
const open: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  tcpUrl = `mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`;
  wsUrl = `ws://127.0.0.1:${gw.telemetry!.wsPort}`;
});
afterAll(async () => {
  for (const client of open) client.end(true);
  await gw?.close();
});

async function register(body: Record<string, unknown>) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { device: { id: string; kind: 'badge' | 'vehicle' }; credential: { username: string; password: string } };
}

function connect(url: string, username: string, password?: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      username,
      ...(password !== undefined ? { password } : {}),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    open.push(client);
    client.once('connect', () => resolve(client));
    client.once('error', (error) => reject(error));
  });
}

const publish = (client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1) =>
  client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos });

const state = (deviceId: string) => gw.redis.client.hgetall(tenantKeys(gw.tenant.id).deviceState(deviceId));

describe('device registry and CONNECT', () => {
  it('accepts a registered device over TCP and WebSocket and stores its fix before the PUBACK', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Sweeper 3', plate: '粤A·12345', unitId: 'sanitation' });
    for (const url of [tcpUrl, wsUrl]) {
      const client = await connect(url, credential.username, credential.password);
      const ts = Date.now() - (url === tcpUrl ? 2000 : 1000);
      await publish(client, nativeTopic(gw.tenant.id, 'vehicle', device.id, 'position'), { ts, lat: 23.1291, lon: 113.2644, speed: 18, battery: 90 });
      // Acknowledged means stored: no waiting here.
      const stored = await state(device.id);
      expect(Number(stored.fixTime)).toBe(ts);
      expect(stored.online).toBe('1');
      client.end(true);
    }
    const live = await gw.redis.client.geopos(`cl:{${gw.tenant.id}}:live:vehicle`, device.id);
    expect(Number(live[0]![0])).toBeCloseTo(113.2644, 3);
    expect(await gw.redis.client.xlen(`cl:{${gw.tenant.id}}:track:${device.id}`)).toBe(2);
  });

  it('refuses a wrong password (CONNACK 4), a disabled device (5) and a rotated secret', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Badge 1' });
    await expect(connect(tcpUrl, credential.username, 'cl_dk_wrong')).rejects.toMatchObject({ code: 4 });
    await expect(connect(tcpUrl, 'someone-else', credential.password)).rejects.toMatchObject({ code: 4 });
    const rotated = await inject(gw, 'POST', `/v1/devices/${device.id}/credentials`, { auth: gw.tenant.secretKey });
    await expect(connect(tcpUrl, credential.username, credential.password)).rejects.toMatchObject({ code: 4 });
    const live = await connect(tcpUrl, credential.username, rotated.body.credential.password);
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    await inject(gw, 'PATCH', `/v1/devices/${device.id}`, { auth: gw.tenant.secretKey, body: { disabled: true } });
    await closed;
    await expect(connect(tcpUrl, credential.username, rotated.body.credential.password)).rejects.toMatchObject({ code: 5 });
    // Refusals the tenant can be told about: its disabled device and the wrong username.
    const counters = await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey });
    expect(counters.body.refusedConnects).toBeGreaterThanOrEqual(2);
    // Another tenant's admin sees none of it.
    const stranger = await gw.createTenant('C');
    const theirs = await inject(gw, 'GET', '/v1/telemetry/counters', { auth: stranger.secretKey });
    expect(theirs.body.refusedConnects).toBe(0);
    expect(theirs.body.messages).toBe(0);
  });

  it('lets a ThingsBoard-style client log in with its token as username', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Compactor' });
    const client = await connect(tcpUrl, credential.password);
    await publish(client, 'v1/devices/me/telemetry', { ts: Date.now() - 500, values: { latitude: 23.2, longitude: 113.3, speed: 10, batteryLevel: 66 } });
    expect(decodeStoredPosition((await state(device.id)).position!)).toMatchObject({ source: 'thingsboard', battery: 66 });
  });
});

describe('spoofing', () => {
  it("acknowledges and drops a publish to another device's topic, storing nothing and staying connected", async () => {
    const a = await register({ kind: 'badge', name: 'A' });
    const b = await register({ kind: 'badge', name: 'B' });
    const client = await connect(tcpUrl, a.credential.username, a.credential.password);
    const listener = await connect(tcpUrl, b.credential.username, b.credential.password);
    await listener.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', b.device.id, 'cmd'), { qos: 1 });
    const heard: string[] = [];
    listener.on('message', (topic) => heard.push(topic));
    const before = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    // Spoofed position, a forged command to B, and another tenant's topic: each is PUBACKed (the
    // promise resolves) and dropped.
    await publish(client, nativeTopic(gw.tenant.id, 'badge', b.device.id, 'position'), { ts: Date.now(), lat: 23, lon: 113 });
    await publish(client, nativeTopic(gw.tenant.id, 'badge', b.device.id, 'cmd'), { type: 'report_location' });
    const other = await gw.createTenant('S');
    await publish(client, nativeTopic(other.id, 'badge', a.device.id, 'position'), { ts: Date.now(), lat: 23, lon: 113 });
    await publish(client, '$SYS/broker/whatever', 'x');
    expect(await state(b.device.id)).toEqual({});
    expect(client.connected).toBe(true);
    // The device's own publishes still go through on the same connection.
    const ts = Date.now() - 50;
    await publish(client, nativeTopic(gw.tenant.id, 'badge', a.device.id, 'position'), { ts, lat: 23.1, lon: 113.2 });
    expect(Number((await state(a.device.id)).fixTime)).toBe(ts);
    const after = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    expect(after.deniedPublishes - before.deniedPublishes).toBe(4);
    expect((await state(a.device.id)).lastRefusedReason).toBe('denied_topic');
    expect(heard).toEqual([]);
  });

  it("answers SUBACK 0x80 to a subscription outside the device's own command topic", async () => {
    const a = await register({ kind: 'badge', name: 'A2' });
    const b = await register({ kind: 'badge', name: 'B2' });
    const client = await connect(tcpUrl, a.credential.username, a.credential.password);
    const own = await client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', a.device.id, 'cmd'), { qos: 1 });
    expect(own[0]!.qos).toBe(1);
    for (const topic of [
      nativeTopic(gw.tenant.id, 'badge', b.device.id, 'cmd'),
      `civicloop/${gw.tenant.id}/#`,
      '#',
      nativeTopic(gw.tenant.id, 'badge', a.device.id, 'position'),
    ]) {
      // mqtt.js rejects a subscription the broker granted 0x80, carrying the SUBACK.
      const refusal = await client.subscribeAsync(topic, { qos: 1 }).then(
        () => undefined,
        (error: { packet?: { granted?: number[] } }) => error,
      );
      expect(refusal?.packet?.granted, topic).toEqual([128]);
    }
    expect(client.connected).toBe(true);
  });
});

describe('bad input', () => {
  it('drops and counts bad payloads on every topic, writes nothing, and keeps serving others', async () => {
    const bad = await register({ kind: 'badge', name: 'Noisy' });
    const good = await register({ kind: 'badge', name: 'Quiet' });
    const noisy = await connect(tcpUrl, bad.credential.username, bad.credential.password);
    const quiet = await connect(tcpUrl, good.credential.username, good.credential.password);
    const position = nativeTopic(gw.tenant.id, 'badge', bad.device.id, 'position');
    const event = nativeTopic(gw.tenant.id, 'badge', bad.device.id, 'event');
    const owntracks = `owntracks/${bad.device.id}/phone`;
    const before = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    const now = Date.now();
    const payloads: [string, unknown][] = [
      [position, 'not json'],
      [position, { ts: now, lat: '23', lon: 113 }],
      [position, { ts: now, lat: 91, lon: 113 }],
      [position, '{"ts": 1, "lat": NaN, "lon": 113}'],
      [position, { ts: now + 86_400_000, lat: 23, lon: 113 }],
      [position, { ts: now, lat: 23, lon: 113, firmware: 'x' }],
      [position, JSON.stringify({ ts: now, lat: 23, lon: 113, pad: 'x'.repeat(1024 * 1024) })],
      [event, { type: 'teleport', ts: now }],
      [owntracks, { _type: 'location', lat: 23 }],
      ['v1/devices/me/telemetry', { latitude: 'north', longitude: 113 }],
      [nativeTopic(gw.tenant.id, 'badge', bad.device.id, 'status'), { state: 'asleep' }],
    ];
    for (const [topic, payload] of payloads) await publish(noisy, topic, payload);
    await publish(quiet, nativeTopic(gw.tenant.id, 'badge', good.device.id, 'position'), { ts: now, lat: 23.1, lon: 113.2 });

    // Nothing stored for the noisy device but its own tally of refusals, shown in its state.
    expect(Object.keys(await state(bad.device.id)).sort()).toEqual(['lastRefusedAt', 'lastRefusedReason', 'refused']);
    const shown = await inject(gw, 'GET', `/v1/devices/${bad.device.id}/state`, { auth: gw.tenant.secretKey });
    expect(shown.body).toMatchObject({ position: null, refused: { count: payloads.length, lastReason: 'schema' } });
    expect(await gw.redis.client.exists(`cl:{${gw.tenant.id}}:track:${bad.device.id}`)).toBe(0);
    expect(Number((await state(good.device.id)).fixTime)).toBe(now);
    const after = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    const rejected = (r: Record<string, number>) => Object.values(r).reduce((n, v) => n + v, 0);
    expect(rejected(after.rejected) - rejected(before.rejected)).toBe(payloads.length);
    expect(after.rejected.too_large - (before.rejected.too_large ?? 0)).toBe(1);
    expect(noisy.connected).toBe(true);
  });

  it('loses none of the QoS 0 messages a device sends just before it disconnects', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Burst then leave' });
    const client = await connect(tcpUrl, credential.username, credential.password);
    const topic = nativeTopic(gw.tenant.id, 'vehicle', device.id, 'position');
    const base = Date.now() - 60_000;
    await Promise.all(Array.from({ length: 5000 }, (_, i) => publish(client, topic, { ts: base + i, lat: 23.1, lon: 113.2 }, 0)));
    await client.endAsync();
    const track = tenantKeys(gw.tenant.id).track(device.id);
    for (let i = 0; i < 200 && (await gw.redis.client.xlen(track)) < 5000; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await gw.redis.client.xlen(track)).toBe(5000);
  });

  it('stores a redelivered fix once', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Twice' });
    const client = await connect(tcpUrl, credential.username, credential.password);
    const fix = { ts: Date.now() - 100, lat: 23.1, lon: 113.2 };
    const topic = nativeTopic(gw.tenant.id, 'vehicle', device.id, 'position');
    await publish(client, topic, fix);
    await publish(client, topic, fix);
    expect(await gw.redis.client.xlen(`cl:{${gw.tenant.id}}:track:${device.id}`)).toBe(1);
  });
});

describe('off-the-shelf clients', () => {
  it('takes OwnTracks JSON from mosquitto_pub', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Phone' });
    const tst = Math.floor(Date.now() / 1000) - 3;
    const message = JSON.stringify({ _type: 'location', lat: 23.12, lon: 113.33, tst, acc: 8, batt: 77, vel: 5, tid: 'ph', conn: 'm', inregions: [] });
    // Asynchronously: the broker under test runs in this very process.
    const result = await promisify(execFile)(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(gw.telemetry!.tcpPort),
        '-V',
        'mqttv311',
        '-u',
        credential.username,
        '-P',
        credential.password,
        '-q',
        '1',
        '-t',
        `owntracks/${device.id}/phone`,
        '-m',
        message,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(result.stderr).toBe('');
    expect(decodeStoredPosition((await state(device.id)).position!)).toMatchObject({ source: 'owntracks', fixTime: tst * 1000, battery: 77, speedKmh: 5 });
  });
});

describe('mosquitto_sub as a badge', () => {
  it('receives its assignment on its command topic', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Sub badge', staffId: 'w-2', unitId: 'sanitation' });
    const topic = nativeTopic(gw.tenant.id, 'badge', device.id, 'cmd');
    const broker = gw.telemetry!.broker!;
    const subscribed = new Promise<void>((resolve) => {
      const onSubscribe = (subscriptions: { topic: string }[]) => {
        if (!subscriptions.some((s) => s.topic === topic)) return;
        broker.off('subscribe', onSubscribe);
        resolve();
      };
      broker.on('subscribe', onSubscribe);
    });
    const subscriber = execFile('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(gw.telemetry!.tcpPort),
      '-V',
      'mqttv311',
      '-u',
      credential.username,
      '-P',
      credential.password,
      '-q',
      '1',
      '-t',
      topic,
      '-C',
      '1',
      '-W',
      '10',
    ]);
    let output = '';
    subscriber.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => subscriber.once('exit', resolve));
    // Once the broker has its subscription, dispatch to the badge's wearer.
    await subscribed;
    const ticket = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { category: 'sanitation.bin_overflow', description: 'bin', location: { lat: 23.1, lon: 113.2 } },
    });
    await inject(gw, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-2' } });
    expect(await exited).toBe(0);
    expect(JSON.parse(output)).toMatchObject({ type: 'assignment', ticketId: ticket.body.id });
  });
});

describe('badges close the loop', () => {
  it('keeps attendance from check-in and check-out', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Li', staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] });
    const client = await connect(tcpUrl, credential.username, credential.password);
    const topic = nativeTopic(gw.tenant.id, 'badge', device.id, 'event');
    const start = Date.now() - 60_000;
    await publish(client, topic, { type: 'check_in', ts: start });
    expect(await gw.redis.client.hget(`cl:{${gw.tenant.id}}:onduty`, device.id)).toBe(String(start));
    await publish(client, topic, { type: 'check_out', ts: start + 30_000 });
    expect(await gw.redis.client.hexists(`cl:{${gw.tenant.id}}:onduty`, device.id)).toBe(0);
    const days = await gw.redis.client.keys(`cl:{${gw.tenant.id}}:shifts:*`);
    const shifts = (await gw.redis.client.lrange(days[0]!, 0, -1)).map((s) => JSON.parse(s));
    expect(shifts).toContainEqual({ deviceId: device.id, staffId: 'w-1', unitId: 'sanitation', start, end: start + 30_000 });
  });

  it('turns an SOS into one urgent ticket at the badge, even when redelivered', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Chen', staffId: 'w-3' });
    const client = await connect(tcpUrl, credential.username, credential.password);
    const sos = { type: 'sos', ts: Date.now() - 10, lat: 23.14, lon: 113.31, note: 'fell into a trench' };
    await publish(client, nativeTopic(gw.tenant.id, 'badge', device.id, 'event'), sos);
    await publish(client, nativeTopic(gw.tenant.id, 'badge', device.id, 'event'), sos);
    const list = await inject(gw, 'GET', '/v1/tickets?category=other.worker_sos', { auth: gw.tenant.secretKey });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ priority: 'urgent', channel: 'device', location: { lat: 23.14, lon: 113.31 } });
  });

  it('delivers a command to the badge on its cmd topic', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Listener' });
    const client = await connect(tcpUrl, credential.username, credential.password);
    await client.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', device.id, 'cmd'), { qos: 1 });
    const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
    await gw.telemetry!.sendCommand(gw.tenant.id, device as never, { type: 'report_location' });
    expect(JSON.parse(await received)).toEqual({ type: 'report_location', commandId: expect.any(String) });
  });
});
