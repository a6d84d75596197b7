import { execFile } from 'node:child_process';
import { connect as tcpConnect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// Tight limits so the test can reach them quickly; the defaults are documented in configuration.md.
const CONNECT_TIMEOUT_MS = 400;
const MAX_PENDING = 4;
let gw: TestGateway;
let tcpPort: number;
const open: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway(
    { mqttConnectTimeoutMs: CONNECT_TIMEOUT_MS, mqttMaxPendingPerAddress: MAX_PENDING, mqttPreAuthMaxBytes: 4096 },
    { telemetry: true },
  );
  tcpPort = gw.telemetry!.tcpPort!;
});
afterAll(async () => {
  for (const client of open) client.end(true);
  await gw?.close();
});

async function register(name: string) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name } });
  return res.body as { device: { id: string }; credential: { username: string; password: string } };
}

/** A device with a persistent session: whatever it has not had acknowledged, it sends again on reconnect. */
async function persistent(username: string, password: string, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcpPort}`, {
    username,
    password,
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 50,
    connectTimeout: 3000,
  });
  open.push(client);
  return client;
}

const state = (deviceId: string) => gw.redis.client.hgetall(tenantKeys(gw.tenant.id).deviceState(deviceId));
const closedSoon = (socket: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
const rawSocket = () =>
  new Promise<Socket>((resolve, reject) => {
    const socket = tcpConnect(tcpPort, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

describe('devices are never locked out', () => {
  it('acknowledges what it refuses, so a persistent session has nothing to resend, and keeps the device served', async () => {
    const { device, credential } = await register('Stubborn');
    const client = await persistent(credential.username, credential.password, `stubborn-${device.id}`);
    const own = (channel: 'position' | 'event') => nativeTopic(gw.tenant.id, 'badge', device.id, channel);
    // Seconds, a few in the past: the good fix sent after the reconnect must be the newer one even
    // when all of this runs within the same second (CI once stored this one's fix as the latest).
    const tst = Math.floor(Date.now() / 1000) - 5;
    // Each of these used to close the connection without a PUBACK, so the device resent it
    // after every reconnect, forever.
    const poison: [string, string][] = [
      [own('position'), '{"ts": 1e300, "lat": 23.1, "lon": 113.3}'],
      [own('position'), '{"ts": 8640000000000001, "lat": 23.1, "lon": 113.3}'],
      [own('position'), '{"ts": 1, "lat": 89.9, "lon": 113.3}'],
      [own('event'), '{"type": "sos", "ts": 1e21}'],
      [`owntracks/${device.id}/phone/waypoint`, JSON.stringify({ _type: 'waypoint', desc: 'Depot', lat: 23.1, lon: 113.3, rad: 50, tst })],
      [`owntracks/${device.id}/phone/waypoints`, JSON.stringify({ _type: 'waypoints', waypoints: [] })],
      [`owntracks/${device.id}/phone/status`, JSON.stringify({ _type: 'status', android: { hib: 1 } })],
      [`owntracks/${device.id}/phone/info`, JSON.stringify({ _type: 'card', name: 'Li' })],
      [`owntracks/${device.id}/phone`, JSON.stringify({ _type: 'location', lat: 23.1, lon: 113.3, tst, batt: -1 })],
      ['v1/devices/me/telemetry', JSON.stringify([{ ts: Date.now(), values: { engine: { rpm: 900 }, codes: [1, 2] } }])],
      ['some/other/topic', 'x'],
    ];
    for (const [topic, payload] of poison) await client.publishAsync(topic, payload, { qos: 1 });
    expect(client.connected).toBe(true);
    // Reconnect: nothing is left to resend, and the next good fix is stored at once.
    client.stream.destroy();
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const ts = Date.now() - 100;
    await client.publishAsync(own('position'), JSON.stringify({ ts, lat: 23.12, lon: 113.31 }), { qos: 1 });
    const stored = await state(device.id);
    expect(Number(stored.fixTime)).toBe(ts);
    // The OwnTracks location with batt -1 was accepted (no battery); the rest refused or set aside.
    const shown = (await inject(gw, 'GET', `/v1/devices/${device.id}/state`, { auth: gw.tenant.secretKey })).body;
    expect(shown.refused.count).toBe(5);
    expect(shown.ignored.count).toBe(5);
    expect(await gw.redis.client.xlen(tenantKeys(gw.tenant.id).track(device.id))).toBe(2);
  });

  it('lets an OwnTracks phone publish to its ordinary sub-topics with mosquitto_pub, QoS 1', async () => {
    const { device, credential } = await register('Phone');
    for (const sub of ['waypoint', 'waypoints', 'status', 'info', 'step', 'dump']) {
      const result = await promisify(execFile)(
        'mosquitto_pub',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(tcpPort),
          '-V',
          'mqttv311',
          '-u',
          credential.username,
          '-P',
          credential.password,
          '-q',
          '1',
          '-t',
          `owntracks/${device.id}/phone/${sub}`,
          '-m',
          '{"_type":"x"}',
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
      expect(result.stderr, sub).toBe('');
    }
    const counters = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    expect(counters.ignored.unused_topic).toBeGreaterThanOrEqual(6);
  });

  it('acknowledges an oversized publish after login without buffering it, and refuses it as too large', async () => {
    const { device, credential } = await register('Chatty');
    const client = await persistent(credential.username, credential.password, `chatty-${device.id}`);
    const rssBefore = process.memoryUsage().rss;
    await client.publishAsync(nativeTopic(gw.tenant.id, 'badge', device.id, 'position'), Buffer.alloc(8 * 1024 * 1024, 0x20), { qos: 1 });
    expect(client.connected).toBe(true);
    const shown = (await inject(gw, 'GET', `/v1/devices/${device.id}/state`, { auth: gw.tenant.secretKey })).body;
    expect(shown.refused).toMatchObject({ count: 1, lastReason: 'too_large' });
    // Sender and broker share this process: the 8 MB left the client, the gateway kept none of it.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('before a client has authenticated', () => {
  it('closes a TCP connection that announces a huge CONNECT, at the header', async () => {
    const before = gw.telemetry!.counters.closedByGuard.tooLarge;
    const socket = await rawSocket();
    // CONNECT announcing 256 MB, then data as fast as the socket takes it.
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    socket.on('error', () => undefined);
    socket.write(Buffer.alloc(1024 * 1024));
    expect(await closedSoon(socket, 2000)).toBe(true);
    expect(gw.telemetry!.counters.closedByGuard.tooLarge).toBe(before + 1);
  });

  it('closes a connection whose first packet is not CONNECT', async () => {
    const socket = await rawSocket();
    socket.on('error', () => undefined);
    socket.write(mqttPacket.generate({ cmd: 'publish', topic: 'v1/devices/me/telemetry', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }));
    expect(await closedSoon(socket, 2000)).toBe(true);
  });

  it('closes a connection that does not authenticate within MQTT_CONNECT_TIMEOUT_MS', async () => {
    const socket = await rawSocket();
    const started = Date.now();
    expect(await closedSoon(socket, CONNECT_TIMEOUT_MS * 10)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 50);
  });

  it('holds at most MQTT_MAX_PENDING_PER_ADDRESS unauthenticated connections per address, and lets devices in again after', async () => {
    const idle = await Promise.all(Array.from({ length: MAX_PENDING }, () => rawSocket()));
    const extra = await rawSocket();
    extra.on('error', () => undefined);
    expect(await closedSoon(extra, 1000)).toBe(true);
    for (const socket of idle) socket.destroy();
    const { credential } = await register('After the flood');
    // The gateway sees the idle sockets close as their FINs arrive: wait for that, not for a pause.
    const connect = () =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${tcpPort}`, {
        username: credential.username,
        password: credential.password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 2000,
      });
    let client: MqttClient | undefined;
    await expect
      .poll(async () => {
        client = await connect().catch(() => undefined);
        return client?.connected;
      })
      .toBe(true);
    open.push(client!);
  });

  it('closes a WebSocket whose first message is over the limit, and one that never logs in', async () => {
    const url = `ws://127.0.0.1:${gw.telemetry!.wsPort}`;
    const big = new WebSocket(url, 'mqtt');
    await new Promise((resolve) => big.once('open', resolve));
    const bigClosed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.send(Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0x7f]), Buffer.alloc(64 * 1024)]));
    expect(await bigClosed).toBeGreaterThan(0);
    const silent = new WebSocket(url, 'mqtt');
    const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    expect(await silentClosed).toBeGreaterThan(0);
  });
});
