import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, nativeTopic } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// Whose connection a client id is. MQTT closes a connected client when another CONNECT names its
// client id; the gateway lets that happen only when the newcomer is the same device. Real mqtt.js
// clients over TCP against the embedded broker.
let gw: TestGateway;
let port: number;
const open: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
  port = gw.telemetry!.tcpPort!;
});
afterEach(() => {
  for (const client of open.splice(0)) client.end(true);
});
afterAll(async () => {
  await gw?.close();
});

async function register(name: string) {
  const res = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name } });
  expect(res.status).toBe(201);
  return res.body as { device: { id: string }; credential: { username: string; password: string } };
}

/** A connection (TCP, or WebSocket when told) that does not reconnect, with a count of the times it was closed. */
async function connect(options: IClientOptions, over: 'tcp' | 'ws' = 'tcp') {
  const url = over === 'tcp' ? `mqtt://127.0.0.1:${port}` : `ws://127.0.0.1:${gw.telemetry!.wsPort!}`;
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 3000, ...options });
  open.push(client);
  const closes = { count: 0 };
  client.on('close', () => closes.count++);
  return { client, closes };
}

/** The device's connection still works: a QoS 1 position is acknowledged on it (and it is not closed meanwhile). */
async function publishesOn(client: MqttClient, deviceId: string) {
  expect(client.connected).toBe(true);
  const closed = new Promise<never>((_, reject) => client.once('close', () => reject(new Error('the connection was closed'))));
  const topic = nativeTopic(gw.tenant.id, 'badge', deviceId, 'position');
  await Promise.race([client.publishAsync(topic, JSON.stringify({ ts: Date.now(), lat: 23.13, lon: 113.27 }), { qos: 1 }), closed]);
}

/** Asks on a provisioning connection with a profile that does not exist; resolves with the answer's status. */
async function askOn(client: MqttClient): Promise<string> {
  const answer = new Promise<string>((resolve) =>
    client.once('message', (_topic, payload) => resolve((JSON.parse(payload.toString()) as { status: string }).status)),
  );
  await client.subscribeAsync(PROVISION_RESPONSE_TOPIC, { qos: 1 });
  await client.publishAsync(PROVISION_REQUEST_TOPIC, JSON.stringify({ provisionDeviceKey: 'nobodys', provisionDeviceSecret: 'x' }), { qos: 1 });
  return answer;
}

describe('MQTT client ids', () => {
  it('a provisioning connection, which has no credentials, never closes a device that holds its client id', async () => {
    const { device, credential } = await register('badge of Wang');
    const badge = await connect({ clientId: 'badge-wang', username: credential.username, password: credential.password });
    const provisioning = await connect({ clientId: 'badge-wang', username: 'provision' });
    expect(await askOn(provisioning.client)).toBe('NOT_FOUND');
    await publishesOn(badge.client, device.id);
    expect(badge.closes.count).toBe(0);
  });

  it('answers two provisioning connections with the same client id, neither closing the other', async () => {
    const first = await connect({ clientId: 'provision', username: 'provision' });
    const second = await connect({ clientId: 'provision', username: 'provision' });
    expect(await Promise.all([askOn(first.client), askOn(second.client)])).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect([first.closes.count, second.closes.count]).toEqual([0, 0]);
  });

  it("refuses a device the client id another device's connection holds (CONNACK 2), and the holder stays", async () => {
    const holder = await register('badge of Zhao');
    const other = await register('badge of Qian');
    // The holder over WebSocket, the other device over TCP: one broker, one set of client ids.
    const badge = await connect({ clientId: 'shared-id', username: holder.credential.username, password: holder.credential.password }, 'ws');
    const refusedBefore = gw.telemetry!.counters.of(gw.tenant.id).refusedConnects;
    await expect(connect({ clientId: 'shared-id', username: other.credential.username, password: other.credential.password })).rejects.toMatchObject({
      code: 2,
    });
    expect(gw.telemetry!.counters.of(gw.tenant.id).refusedConnects).toBe(refusedBefore + 1);
    await publishesOn(badge.client, holder.device.id);
    expect(badge.closes.count).toBe(0);
    // Once the holder has gone, the id is free for the other device.
    await badge.client.endAsync();
    const later = await connect({ clientId: 'shared-id', username: other.credential.username, password: other.credential.password });
    await publishesOn(later.client, other.device.id);
  });

  it('lets a device that connects again with its client id replace its older connection', async () => {
    const { device, credential } = await register('badge of Sun');
    const older = await connect({ clientId: 'badge-sun', username: credential.username, password: credential.password });
    const newer = await connect({ clientId: 'badge-sun', username: credential.username, password: credential.password });
    await expect.poll(() => older.closes.count).toBe(1);
    await publishesOn(newer.client, device.id);
  });

  it('keeps no persistent session for a provisioning connection', async () => {
    const broker = gw.telemetry!.broker! as unknown as { persistence: { countOffline(): Promise<{ subsCount: number; clientsCount: number }> } };
    const before = await broker.persistence.countOffline();
    const provisioning = await connect({ clientId: 'firmware-1', username: 'provision', clean: false });
    expect(await askOn(provisioning.client)).toBe('NOT_FOUND');
    await provisioning.client.endAsync();
    expect(await broker.persistence.countOffline()).toEqual(before);
  });
});
