import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMosquitto, type TestMosquitto } from '@civicloop/test-support/mosquitto.js';
import { pipelinedAcks } from './pipelined-acks.js';

// Against a real mosquitto: what it sends again after a reconnect is exactly what was not acknowledged.
let broker: TestMosquitto;
const clients: MqttClient[] = [];
beforeAll(async () => {
  broker = await startTestMosquitto();
  broker.dynsec('createRole', 'rw');
  broker.dynsec('addRoleACL', 'rw', 'publishClientSend', 'acks/#', 'allow');
  broker.dynsec('addRoleACL', 'rw', 'subscribePattern', 'acks/#', 'allow');
  broker.dynsec('createClient', 'rw', '-p', 'rw-password');
  broker.dynsec('addClientRole', 'rw', 'rw');
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  await broker?.stop();
});

interface Deferred {
  topic: string;
  text: string;
  resolve(): void;
  reject(error: Error): void;
}

/** The message ids a client has acknowledged (PUBACK written to its socket), in order: what to wait on instead of a pause. */
function pubacksOf(client: MqttClient): number[] {
  const sent: number[] = [];
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) sent.push(packet.messageId);
  });
  return sent;
}

/** A subscriber on a persistent session whose stores the test settles by hand. */
function subscriber(clientId: string, seen: Deferred[], onFailure: (client: MqttClient) => void): Promise<MqttClient> {
  let client: MqttClient;
  const acks = pipelinedAcks(
    (topic, payload) => new Promise<void>((resolve, reject) => seen.push({ topic, text: payload.toString(), resolve, reject })),
    () => onFailure(client),
  );
  client = mqtt.connect(broker.url, {
    manualConnect: true,
    protocolVersion: 5,
    username: 'rw',
    password: 'rw-password',
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 600 },
    reconnectPeriod: 0,
    customHandleAcks: acks.customHandleAcks,
  });
  acks.attach(client);
  clients.push(client);
  const connected = new Promise<MqttClient>((resolve) => client.once('connect', () => resolve(client)));
  client.connect();
  return connected;
}

describe('pipelined acknowledgements', () => {
  it("stores a connection's messages at once, acknowledges each once stored and in order, and none after one that failed", async () => {
    const seen: Deferred[] = [];
    let dropped = 0;
    const first = await subscriber('acks-sub', seen, (client) => {
      dropped++;
      client.stream.destroy();
    });
    await first.subscribeAsync('acks/+', { qos: 1 });
    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'rw', password: 'rw-password', clientId: 'acks-pub' });
    clients.push(device);
    for (let i = 1; i <= 6; i++) await device.publishAsync(`acks/${i}`, `m${i}`, { qos: 1 });

    // All six are being stored at once: none had to wait for the one before.
    await expect.poll(() => seen.map((s) => s.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    // 1 and 2 stored (out of order), 3 fails, 4 to 6 stored: only 1 and 2 may be acknowledged.
    const firstAcks = pubacksOf(first);
    seen[1]!.resolve();
    seen[0]!.resolve();
    // 1 and 2 acknowledged and out of the client's buffer (the failure below destroys the socket).
    await expect.poll(() => firstAcks.length === 2 && first.stream.writableLength === 0).toBe(true);
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    seen[3]!.resolve();
    seen[4]!.resolve();
    seen[5]!.resolve();
    seen[2]!.reject(new Error('Redis went away'));
    await closed;
    expect(dropped).toBe(1);
    first.end(true);

    // Back on the same session: mosquitto sends 3 to 6 again, not 1 and 2.
    const again: Deferred[] = [];
    const second = await subscriber('acks-sub', again, () => undefined);
    const secondAcks = pubacksOf(second);
    await expect.poll(() => again.map((s) => s.text)).toEqual(['m3', 'm4', 'm5', 'm6']);
    for (const s of again) s.resolve();
    await expect.poll(() => secondAcks.length === 4 && second.stream.writableLength === 0).toBe(true);
    second.end(true);

    // All acknowledged now: a third connection is sent nothing.
    const none: Deferred[] = [];
    const third = await subscriber('acks-sub', none, () => undefined);
    await device.publishAsync('acks/7', 'm7', { qos: 1 });
    await expect.poll(() => none.map((s) => s.text)).toEqual(['m7']);
    none[0]!.resolve();
    third.end(true);
  });
});
