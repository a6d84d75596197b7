import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { externalBrokerMode, startExternalBrokerPair, type ExternalBrokerPair } from '@civicloop/test-support/external-broker-harness.js';
import type { TestMosquitto } from '@civicloop/test-support/mosquitto.js';
import { curl, curlHeld } from '@civicloop/test-support/thingsboard-http.js';
import { loadConfig } from '../../core/config.js';
import { tenantKeys } from '../../redis/keys.js';
import { startGateway } from '../../server.js';

// Two gateways in external-broker mode on one Redis and a real mosquitto 2 with its dynamic
// security plugin: devices connect to mosquitto with the accounts the gateways made there.
let pair: ExternalBrokerPair | undefined;
let broker: TestMosquitto;
let first: TestGateway;
let second: TestGateway;
const clients: MqttClient[] = [];

beforeAll(async () => {
  pair = await startExternalBrokerPair();
  ({ broker, first, second } = pair);
}, 30_000);
afterAll(async () => {
  for (const client of clients) client.end(true);
  await pair?.close();
});

interface Registered {
  device: { id: string };
  credential: { username: string; password: string };
}

/** Commands the broker took from either gateway for the first tenant's devices. */
const commandsSent = () => [first, second].reduce((sum, gateway) => sum + gateway.telemetry!.counters.of(first.tenant.id).commandsSent, 0);

async function register(body: Record<string, unknown>): Promise<Registered> {
  const response = await inject(first, 'POST', '/v1/devices', { auth: first.tenant.secretKey, body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as Registered;
}

/**
 * A device's MQTT 5 connection to mosquitto (MQTT 5, so that refusals come with reason codes).
 * `onMessage` listens from the start: a persistent session's queued messages come right after CONNACK.
 */
function connectDevice(
  credential: { username: string; password: string },
  extra: IClientOptions = {},
  onMessage?: (topic: string, payload: Buffer) => void,
): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, { protocolVersion: 5, username: credential.username, password: credential.password, reconnectPeriod: 0, ...extra });
  clients.push(client);
  if (onMessage) client.on('message', onMessage);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

/** The reason code mosquitto refused a CONNECT with, or 0 if it let the device in. */
async function connectCode(credential: { username: string; password: string }): Promise<number> {
  try {
    (await connectDevice(credential)).end(true);
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

const trackLength = (deviceId: string) => first.redis.client.xlen(tenantKeys(first.tenant.id).track(deviceId));
const position = (ts: number, n = 0) => JSON.stringify({ ts, lat: 23.1291 + n * 1e-5, lon: 113.2644 });

describe('external broker mode with mosquitto 2 (MQTT_BROKER_URL, MQTT_BROKER_DYNSEC)', () => {
  it('registers a device in mosquitto, stores what it publishes, and leaves a spoofed topic to the broker to refuse', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Truck 1' });
    const victim = await register({ kind: 'vehicle', name: 'Truck 2' });
    // The broker's account name carries the tenant: two tenants' "truck-1" never collide there.
    expect(credential.username).toBe(`${first.tenant.id}.${device.id}`);

    const truck = await connectDevice(credential);
    await truck.publishAsync(nativeTopic(first.tenant.id, 'vehicle', device.id, 'position'), position(Date.now()), { qos: 1 });
    await expect.poll(() => trackLength(device.id)).toBe(1);

    // Another device's topics, and its own command topic: refused by mosquitto (135, not authorized).
    await expect(
      truck.publishAsync(nativeTopic(first.tenant.id, 'vehicle', victim.device.id, 'position'), position(Date.now()), { qos: 1 }),
    ).rejects.toMatchObject({ code: 135 });
    await expect(truck.publishAsync(nativeTopic(first.tenant.id, 'vehicle', device.id, 'cmd'), '{}', { qos: 1 })).rejects.toMatchObject({ code: 135 });
    const granted = await truck
      .subscribeAsync(nativeTopic(first.tenant.id, 'vehicle', victim.device.id, 'cmd'), { qos: 1 })
      .catch((error: { packet?: { granted?: number[] } }) => error.packet?.granted);
    expect(granted).toEqual([135]);
    // A second good message is stored: the refused ones never reached a gateway.
    await truck.publishAsync(nativeTopic(first.tenant.id, 'vehicle', device.id, 'position'), position(Date.now() + 1), { qos: 1 });
    await expect.poll(() => trackLength(device.id)).toBe(2);
    expect(await trackLength(victim.device.id)).toBe(0);

    expect(await connectCode({ username: credential.username, password: 'not-the-secret' })).toBe(135);
    expect(await connectCode({ username: `${first.tenant.id}.${victim.device.id}`, password: credential.password })).toBe(135);
  });

  it('disables, enables and rotates the device in the broker when the HTTP API does', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Badge 9' });
    const badge = await connectDevice(credential);
    const closed = new Promise<void>((resolve) => badge.once('close', () => resolve()));

    const disabled = await inject(second, 'PATCH', `/v1/devices/${device.id}`, { auth: first.tenant.secretKey, body: { disabled: true } });
    expect(disabled.status).toBe(200);
    await closed; // mosquitto closes its connection at once
    expect(await connectCode(credential)).toBe(135);

    expect((await inject(first, 'PATCH', `/v1/devices/${device.id}`, { auth: first.tenant.secretKey, body: { disabled: false } })).status).toBe(200);
    expect(await connectCode(credential)).toBe(0);

    const rotated = await inject(first, 'POST', `/v1/devices/${device.id}/credentials`, { auth: first.tenant.secretKey });
    expect(rotated.status).toBe(200);
    const fresh = (rotated.body as Registered).credential;
    expect(fresh.username).toBe(credential.username);
    expect(await connectCode(credential)).toBe(135);
    expect(await connectCode(fresh)).toBe(0);

    // A device with no account in the broker (registered before the gateway managed it) gets one when rotated.
    broker.dynsec('deleteClient', fresh.username);
    expect(await connectCode(fresh)).toBe(135);
    const given = await inject(first, 'POST', `/v1/devices/${device.id}/credentials`, { auth: first.tenant.secretKey });
    expect(given.status).toBe(200);
    expect(await connectCode((given.body as Registered).credential)).toBe(0);
  });

  it(
    'sends commands through the broker: to a connected badge, queued for one away ' +
      'on a persistent session, and when a clean-session badge says it is online',
    async () => {
      const { device, credential } = await register({ kind: 'badge', name: 'Badge of w-1', staffId: 'w-1', unitId: 'sanitation' });
      const cmd = nativeTopic(first.tenant.id, 'badge', device.id, 'cmd');
      const outbox = tenantKeys(first.tenant.id).mqttOutbox(device.id);
      const received: { number: string; commandId: string }[] = [];
      const persistent = { clientId: `badge-${device.id}`, clean: false, properties: { sessionExpiryInterval: 3600 } };
      const onMessage = (_topic: string, payload: Buffer) => received.push(JSON.parse(payload.toString()) as { number: string; commandId: string });
      const dispatch = async (gateway: TestGateway) => {
        const ticket = await inject(gateway, 'POST', '/v1/tickets', { auth: first.tenant.secretKey, body: BIN_REPORT });
        const dispatched = await inject(gateway, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
          auth: first.tenant.secretKey,
          body: { unitId: 'sanitation', assigneeId: 'w-1' },
        });
        expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
        return ticket.body.number as string;
      };

      const sentBefore = commandsSent();
      let badge = await connectDevice(credential, persistent, onMessage);
      await badge.subscribeAsync(cmd, { qos: 1 });
      const one = await dispatch(second);
      await expect.poll(() => received.map((r) => r.number)).toEqual([one]);
      expect(received[0]!.commandId).toMatch(/^[0-9a-f-]{36}$/);
      await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);

      // Away with its persistent session: mosquitto keeps the command for it, and it leaves the outbox.
      await badge.endAsync();
      const two = await dispatch(first);
      await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);
      badge = await connectDevice(credential, persistent, onMessage);
      await expect.poll(() => received.map((r) => r.number)).toEqual([one, two]);
      await badge.endAsync();

      // Away with a clean session: nobody subscribed (PUBACK 16), so the command waits in the
      // outbox until the badge connects, subscribes and says it is online.
      const cleanSession = { clientId: `badge-${device.id}`, clean: true };
      (await connectDevice(credential, cleanSession)).end(true);
      const kept = () => second.telemetry!.counters.of(first.tenant.id).commandsKept;
      const keptBefore = kept();
      const three = await dispatch(second);
      // The broker has answered the publish: nobody subscribed, so the command stays.
      await expect.poll(kept).toBe(keptBefore + 1);
      expect(await first.redis.client.llen(outbox)).toBe(1);
      badge = await connectDevice(credential, cleanSession, onMessage);
      await badge.subscribeAsync(cmd, { qos: 1 });
      await badge.publishAsync(nativeTopic(first.tenant.id, 'badge', device.id, 'status'), JSON.stringify({ state: 'online' }), { qos: 1 });
      await expect.poll(() => received.map((r) => r.number)).toEqual([one, two, three]);
      await expect.poll(() => first.redis.client.llen(outbox)).toBe(0);
      // Once each: a command is counted before it leaves the outbox, and with the outbox empty no
      // gateway has one in flight, so no second copy can still be on its way.
      expect(commandsSent() - sentBefore).toBe(3);
      expect(received).toHaveLength(3);
    },
  );

  it('publishes each command once when two gateways send the same outbox at once', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Badge 20' });
    const received: string[] = [];
    const badge = await connectDevice(
      credential,
      { clientId: `badge-${device.id}`, clean: false, properties: { sessionExpiryInterval: 600 } },
      (_topic, payload) => received.push((JSON.parse(payload.toString()) as { commandId: string }).commandId),
    );
    await badge.subscribeAsync(nativeTopic(first.tenant.id, 'badge', device.id, 'cmd'), { qos: 1 });
    const record = (await first.services.devices.get(first.tenant.id, device.id))!;
    const sentBefore = commandsSent();
    // Each gateway pushes one command and at once publishes what waits: both see both entries.
    await Promise.all([
      first.telemetry!.sendCommand(first.tenant.id, record, { type: 'report_location' }),
      second.telemetry!.sendCommand(first.tenant.id, record, { type: 'report_location' }),
    ]);
    await expect.poll(() => first.redis.client.llen(tenantKeys(first.tenant.id).mqttOutbox(device.id))).toBe(0);
    expect(commandsSent() - sentBefore).toBe(2);
    await expect.poll(() => received.length).toBe(2);
    expect(received).toHaveLength(2);
    expect(new Set(received).size).toBe(2);
  });

  it('serves ThingsBoard HTTP firmware: a command given on one gateway answers its poll on the other, the broker having nobody for it', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'DTU on truck 21' });
    const poll = curlHeld('GET', `${second.url}/api/v1/${credential.password}/rpc?timeout=60000`);
    await expect.poll(() => second.telemetry!.commandPolls.size).toBe(1);
    const record = (await first.services.devices.get(first.tenant.id, device.id))!;
    // The giving gateway publishes it to mosquitto, where no client takes it (PUBACK 16), and
    // the command bus wakes the poll on the other.
    await first.telemetry!.sendCommand(first.tenant.id, record, { type: 'report_location' });
    const answered = await poll.answer;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ method: 'reportLocation' });
    await expect.poll(() => first.redis.client.llen(tenantKeys(first.tenant.id).mqttOutbox(device.id))).toBe(0);
    // It answers by posting its position over HTTP, which every gateway takes whatever its broker.
    const posted = await curl('POST', `${second.url}/api/v1/${credential.password}/telemetry`, JSON.stringify({ latitude: 23.13, longitude: 113.27 }));
    expect(posted).toEqual({ status: 200, telemetry: undefined, body: '' });
    expect(await trackLength(device.id)).toBe(1);
  });

  it('splits one shared subscription between the gateways, and stores each message once', async () => {
    const { device, credential } = await register({ kind: 'vehicle', name: 'Truck 3' });
    const before = [first, second].map((g) => g.telemetry!.counters.of(first.tenant.id).positionsStored);
    const truck = await connectDevice(credential);
    const topic = nativeTopic(first.tenant.id, 'vehicle', device.id, 'position');
    const start = Date.now() - 60_000;
    await Promise.all(Array.from({ length: 300 }, (_, i) => truck.publishAsync(topic, position(start + i * 100, i), { qos: 1 })));
    await expect.poll(() => trackLength(device.id), { timeout: 15_000 }).toBe(300);
    const stored = [first, second].map((g, i) => g.telemetry!.counters.of(first.tenant.id).positionsStored - before[i]!);
    expect(stored[0]! + stored[1]!).toBe(300);
    expect(stored[0]).toBeGreaterThan(0);
    expect(stored[1]).toBeGreaterThan(0);
    expect(first.telemetry!.counters.of(first.tenant.id).duplicates + second.telemetry!.counters.of(first.tenant.id).duplicates).toBe(0);
  });

  it('answers CL_ERR_BROKER_UNAVAILABLE and leaves the device as it was when the broker does not take the change', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Badge 12' });
    const listed = async () =>
      ((await inject(first, 'GET', '/v1/devices', { auth: first.tenant.secretKey })).body as { items: { id: string }[] }).items.map((d) => d.id).sort();
    const devicesBefore = await listed();
    const credentialsBefore = await first.redis.client.hgetall(tenantKeys(first.tenant.id).deviceCredentials);
    broker.pause();
    try {
      const refused = await inject(first, 'POST', '/v1/devices', { auth: first.tenant.secretKey, body: { kind: 'badge', name: 'Never', id: 'never-1' } });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('CL_ERR_BROKER_UNAVAILABLE');
      const rotation = await inject(first, 'POST', `/v1/devices/${device.id}/credentials`, { auth: first.tenant.secretKey });
      expect(rotation.body.error.code).toBe('CL_ERR_BROKER_UNAVAILABLE');
      const disabling = await inject(first, 'PATCH', `/v1/devices/${device.id}`, { auth: first.tenant.secretKey, body: { disabled: true } });
      expect(disabling.body.error.code).toBe('CL_ERR_BROKER_UNAVAILABLE');
    } finally {
      broker.resume();
    }
    expect(await listed()).toEqual(devicesBefore);
    expect(await first.redis.client.hgetall(tenantKeys(first.tenant.id).deviceCredentials)).toEqual(credentialsBefore);
    expect(((await inject(first, 'GET', `/v1/devices/${device.id}`, { auth: first.tenant.secretKey })).body as { disabled: boolean }).disabled).toBe(false);
    // Once mosquitto answers again it works through what it was sent, in order: the half-made
    // account is removed after it was made, and the device is enabled again after it was disabled.
    await expect.poll(() => broker.dynsec('getClient', `${first.tenant.id}.never-1`), { timeout: 10_000 }).toContain('Client not found');
    await expect.poll(() => broker.dynsec('getClient', credential.username), { timeout: 10_000 }).not.toContain('Disabled');
    // A rotation it answered too late has taken effect there (the old secret no longer works):
    // the request was answered 503 to be retried, and the retry makes both sides agree again.
    const retried = await inject(first, 'POST', `/v1/devices/${device.id}/credentials`, { auth: first.tenant.secretKey });
    expect(retried.status).toBe(200);
    expect(await connectCode((retried.body as Registered).credential)).toBe(0);
    expect(await connectCode(credential)).toBe(135);
  }, 30_000);

  it('counts, and stores nothing of, what a broker with lax rules lets through', async () => {
    // An account allowed every civicloop/ topic: the broker's rules, not the gateway, would be at fault.
    broker.dynsec('createRole', 'lax');
    broker.dynsec('addRoleACL', 'lax', 'publishClientSend', 'civicloop/#', 'allow');
    broker.dynsec('addRoleACL', 'lax', 'publishClientSend', 'owntracks/#', 'allow');
    broker.dynsec('createClient', 'lax', '-p', 'lax-password');
    broker.dynsec('addClientRole', 'lax', 'lax');
    const { device } = await register({ kind: 'vehicle', name: 'Truck 4' });
    const unattributed = () =>
      [first, second].reduce(
        (sum, g) => ({
          notNative: sum.notNative + g.telemetry!.counters.externalUnattributed.notNative,
          unknownDevice: sum.unknownDevice + g.telemetry!.counters.externalUnattributed.unknownDevice,
        }),
        { notNative: 0, unknownDevice: 0 },
      );
    const denied = () => first.telemetry!.counters.of(first.tenant.id).deniedPublishes + second.telemetry!.counters.of(first.tenant.id).deniedPublishes;
    const before = { ...unattributed(), denied: denied() };
    const lax = await connectDevice({ username: 'lax', password: 'lax-password' });
    const now = position(Date.now());
    await lax.publishAsync(`civicloop/${first.tenant.id}/things/${device.id}/position`, now, { qos: 1 }); // not a native topic
    await lax.publishAsync(nativeTopic(first.tenant.id, 'vehicle', 'no-such-device', 'position'), now, { qos: 1 });
    await lax.publishAsync(nativeTopic(first.tenant.id, 'badge', device.id, 'position'), now, { qos: 1 }); // a vehicle named as a badge
    // OwnTracks topics whose user is no account name, or names no device.
    const fix = JSON.stringify({ _type: 'location', lat: 23.1, lon: 113.2, tst: Math.floor(Date.now() / 1000) });
    await lax.publishAsync(`owntracks/${device.id}/phone`, fix, { qos: 1 });
    await lax.publishAsync(`owntracks/${first.tenant.id}.no-such-device/phone`, fix, { qos: 1 });
    await expect
      .poll(() => ({ ...unattributed(), denied: denied() }))
      .toEqual({ notNative: before.notNative + 2, unknownDevice: before.unknownDevice + 2, denied: before.denied + 1 });
    expect(await trackLength(device.id)).toBe(0);
    expect(await trackLength('no-such-device')).toBe(0);
  });

  it('refuses to register a device while the gateway is not connected to the broker that keeps its account', async () => {
    // HTTP listens before telemetry starts, and goes on for a moment after it stops.
    const unattached = await startTestGateway(externalBrokerMode(broker, 'gw-unattached'), { redis: first.redis });
    try {
      const refused = await inject(unattached, 'POST', '/v1/devices', {
        auth: unattached.tenant.secretKey,
        body: { kind: 'badge', name: 'Too early', id: 'too-early' },
      });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('CL_ERR_BROKER_UNAVAILABLE');
      expect(await unattached.services.devices.get(unattached.tenant.id, 'too-early')).toBeUndefined();
      // A JT/T 808 terminal has no broker account: it registers as always.
      const terminal = await inject(unattached, 'POST', '/v1/devices', {
        auth: unattached.tenant.secretKey,
        body: { kind: 'vehicle', name: 'Truck', protocol: 'jt808', terminalId: '13900009999' },
      });
      expect(terminal.status).toBe(201);
    } finally {
      await unattached.close();
    }
  });

  it('names the variable to change when the broker settings are wrong, and starts no gateway', async () => {
    expect(() => loadConfig({ MQTT_BROKER_URL: 'http://127.0.0.1:1883' })).toThrow(/MQTT_BROKER_URL="http:\/\/127.0.0.1:1883" is not an MQTT URL/);
    expect(() => loadConfig({ MQTT_BROKER_DYNSEC: 'true' })).toThrow(/MQTT_BROKER_URL is not set/);
    expect(() => loadConfig({ MQTT_BROKER_SHARE_GROUP: 'a/b' })).toThrow(/MQTT_BROKER_SHARE_GROUP/);
    expect(() => loadConfig({ MQTT_BROKER_CLIENT_ID: 'gw#1' })).toThrow(/MQTT_BROKER_CLIENT_ID/);
    const base = {
      REDIS_URL: first.redis.url,
      PORT: '0',
      JT808_PORT: 'false',
      LOG_LEVEL: 'silent',
      MQTT_BROKER_URL: broker.url,
      MQTT_BROKER_CLIENT_ID: 'gw-misconfigured',
      CIVICLOOP_MASTER_KEY: 'test-master-key',
    };
    const quiet = { log: () => undefined, logger: false };
    await expect(
      startGateway({ config: loadConfig({ ...base, MQTT_BROKER_USERNAME: broker.admin.username, MQTT_BROKER_PASSWORD: 'wrong' }), ...quiet }),
    ).rejects.toMatchObject({ code: 'CL_ERR_CONFIG', message: expect.stringContaining('MQTT_BROKER_PASSWORD') });
    // An account that may not subscribe to the devices' topics (no role at all).
    broker.dynsec('createClient', 'plain', '-p', 'plain-password');
    await expect(
      startGateway({ config: loadConfig({ ...base, MQTT_BROKER_USERNAME: 'plain', MQTT_BROKER_PASSWORD: 'plain-password' }), ...quiet }),
    ).rejects.toMatchObject({ code: 'CL_ERR_CONFIG', message: expect.stringContaining('refused the subscription') });
    await expect(
      startGateway({
        config: loadConfig({ ...base, MQTT_BROKER_USERNAME: 'plain', MQTT_BROKER_PASSWORD: 'plain-password', MQTT_BROKER_DYNSEC: 'true' }),
        ...quiet,
      }),
    ).rejects.toMatchObject({ code: 'CL_ERR_CONFIG', message: expect.stringContaining('dynamic security admin') });
  });
});
