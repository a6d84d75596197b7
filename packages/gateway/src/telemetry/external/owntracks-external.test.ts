import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { BIN_REPORT, inject } from '@civicloop/test-support/gateway-harness.js';
import { openWithLibsodium, ownTracksEncrypted } from '@civicloop/test-support/libsodium-seal.js';
import {
  androidAppliesWaypoints,
  owntracksAndroidConnection,
  owntracksAndroidSubscriptions,
  type OwnTracksRegion,
} from '@civicloop/test-support/owntracks-app.js';
import { useExternalBrokerPair } from '@civicloop/test-support/external-broker-harness.js';
import { tenantKeys } from '../../redis/keys.js';
import { decodeStoredPosition } from '../../store/stored-position.js';

// OwnTracks phones on an external broker: a real mosquitto 2 with its dynamic security plugin,
// two gateways consuming from it on one Redis. The phones connect as OwnTracks for Android does
// with its default settings (MQTT 3.1, a persistent session, retained locations, its one
// SUBSCRIBE), with a last will, and with the account the gateway made for them in mosquitto.
const env = useExternalBrokerPair();

interface Phone {
  device: { id: string };
  credential: { username: string; password: string };
  /** The app's base topic: `owntracks/<user name>/<Device ID>`, the Device ID being the device id. */
  topic: string;
}

const appSettings = (phone: Phone) => ({ ...phone.credential, deviceId: phone.device.id });

async function registerPhone(extra: Record<string, unknown> = {}): Promise<Phone> {
  const response = await inject(env.first, 'POST', '/v1/devices', {
    auth: env.first.tenant.secretKey,
    body: { kind: 'badge', name: "Li's phone", staffId: 'w-li', unitId: 'sanitation', ...extra },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const { device, credential } = response.body as Omit<Phone, 'topic'>;
  return { device, credential, topic: `owntracks/${credential.username}/${device.id}` };
}

/**
 * Connects as OwnTracks for Android does with its default settings (MQTT 3.1, a client id from
 * its user name and Device ID, a persistent session), with its last will on its base topic.
 */
function connectAsApp(phone: Phone, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(env.broker.url, {
    ...owntracksAndroidConnection(appSettings(phone)),
    username: phone.credential.username,
    password: phone.credential.password,
    reconnectPeriod: 0,
    will: { topic: phone.topic, payload: Buffer.from(JSON.stringify({ _type: 'lwt', tst: Math.floor(Date.now() / 1000) })), qos: 1, retain: false },
    ...extra,
  });
  env.closeAfter(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** What mosquitto granted each topic: 0-2, or 128 (refused, MQTT 3.1.1). */
const grant = (client: MqttClient, topic: string | string[], qos: 1 | 2 = 1) =>
  client.subscribeAsync(topic, { qos }).then(
    (granted) => granted.map((g) => g.qos),
    (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
  );

const track = async (deviceId: string) =>
  (await env.first.redis.client.xrange(tenantKeys(env.first.tenant.id).track(deviceId), '-', '+')).map(([, fields]) => decodeStoredPosition(fields[1]!));
const fix = (lat: number, tst: number, extra: Record<string, unknown> = {}) => ({
  _type: 'location',
  lat,
  lon: 113.2644,
  tst,
  acc: 8,
  batt: 77,
  tid: 'li',
  ...extra,
});
const location = (lat: number, tst: number, extra: Record<string, unknown> = {}) => JSON.stringify(fix(lat, tst, extra));
const online = async (deviceId: string) =>
  ((await inject(env.second, 'GET', `/v1/devices/${deviceId}/state`, { auth: env.first.tenant.secretKey })).body as { online: boolean }).online;
const commandsKept = () => [env.first, env.second].reduce((sum, gateway) => sum + gateway.telemetry!.counters.of(env.first.tenant.id).commandsKept, 0);

describe('OwnTracks phones on an external broker (mosquitto 2, MQTT_BROKER_DYNSEC)', () => {
  it('stores what the app publishes, keeps it to its own topics, and marks it offline by its last will', async () => {
    const phone = await registerPhone();
    const other = await registerPhone({ name: 'Wang phone', staffId: 'w-wang' });
    const app = await connectAsApp(phone);
    const received: string[] = [];
    app.on('message', (topic, payload) => {
      received.push(topic);
      if ((JSON.parse(payload.toString()) as { action?: string }).action === 'reportLocation')
        void app.publishAsync(phone.topic, location(23.1293, Math.floor(Date.now() / 1000), { t: 'r' }), { qos: 1, retain: true });
    });
    // The app's one SUBSCRIBE, at QoS 2. MQTT 3.1 has no code for a refusal, so mosquitto
    // answers every topic granted, and subscribes the phone only to what its role allows: its own
    // cmd topic, not friends' locations, events, cards and status (below).
    const topics = owntracksAndroidSubscriptions(appSettings(phone));
    expect(await grant(app, topics, 2)).toEqual(topics.map(() => 2));

    const tst = Math.floor(Date.now() / 1000) - 60;
    // Locations go out retained by default (the app's pubRetain).
    await app.publishAsync(phone.topic, location(23.1291, tst), { qos: 1, retain: true });
    await app.publishAsync(
      `${phone.topic}/event`,
      JSON.stringify({ _type: 'transition', event: 'enter', desc: 'Depot', lat: 23.13, lon: 113.2644, tst: tst + 1, acc: 10, wtst: tst - 600, t: 'c' }),
      { qos: 1 },
    );
    // The app's other messages go to the broker without complaint and nowhere else.
    await app.publishAsync(`${phone.topic}/waypoints`, JSON.stringify({ _type: 'waypoints', waypoints: [] }), { qos: 1 });
    // Another phone's topic: mosquitto drops it (an MQTT 3.1 client is not told).
    await app.publishAsync(other.topic, location(23.2, tst + 2), { qos: 1 });
    await app.publishAsync(phone.topic, location(23.1292, tst + 3), { qos: 1, retain: true });
    await expect
      .poll(async () => (await track(phone.device.id)).map((r) => [r.lat, r.alarms, r.source]))
      .toEqual([
        [23.1291, [], 'owntracks'],
        [23.13, ['enter:Depot'], 'owntracks'],
        [23.1292, [], 'owntracks'],
      ]);
    expect(await track(other.device.id)).toEqual([]);
    expect(await online(phone.device.id)).toBe(true);

    // The other phone reports; asked where it is next, this one hears only its own command: the
    // other's location, which mosquitto handled before the command, never reached it.
    const otherApp = await connectAsApp(other);
    await otherApp.publishAsync(other.topic, location(23.2, tst + 4), { qos: 1, retain: true });
    await expect.poll(async () => (await track(other.device.id)).length).toBe(1);
    const located = await inject(env.second, 'POST', `/v1/devices/${phone.device.id}/locate`, { auth: env.first.tenant.secretKey });
    expect(located.status, JSON.stringify(located.body)).toBe(200);
    expect(received).toEqual([`${phone.topic}/cmd`]);

    // The phone drops off the network: mosquitto publishes its last will, and a gateway takes it.
    app.stream.destroy();
    await expect.poll(() => online(phone.device.id)).toBe(false);

    // mosquitto keeps the phone's last location retained (the will is not): the gateways' account,
    // which may read owntracks/#, is given it on subscribing.
    const gatewayAccount = env.closeAfter(
      await mqtt.connectAsync(env.broker.url, {
        protocolVersion: 5,
        username: env.broker.admin.username,
        password: env.broker.admin.password,
        reconnectPeriod: 0,
      }),
    );
    const retained = new Promise<{ retain: boolean; lat: number }>((resolve) =>
      gatewayAccount.once('message', (_topic, payload, packet) =>
        resolve({ retain: packet.retain, lat: (JSON.parse(payload.toString()) as { lat: number }).lat }),
      ),
    );
    await gatewayAccount.subscribeAsync(phone.topic, { qos: 1 });
    expect(await retained).toEqual({ retain: true, lat: 23.1293 });
  });

  it('gives a phone its jobs as regions and asks it where it is, through either gateway', async () => {
    const phone = await registerPhone({ staffId: 'w-2' });
    const outbox = tenantKeys(env.first.tenant.id).mqttOutbox(phone.device.id);
    const app = await connectAsApp(phone);
    const received: { topic: string; message: Record<string, unknown> }[] = [];
    app.on('message', (topic, payload) => {
      const message = JSON.parse(payload.toString()) as Record<string, unknown>;
      received.push({ topic, message });
      // The app answers reportLocation with a location whose trigger is "r".
      if (message.action === 'reportLocation') void app.publishAsync(phone.topic, location(23.125, Math.floor(Date.now() / 1000), { t: 'r' }), { qos: 1 });
    });
    expect(await grant(app, `${phone.topic}/cmd`)).toEqual([1]);
    await app.publishAsync(phone.topic, location(23.12, Math.floor(Date.now() / 1000) - 30), { qos: 1 });
    await expect.poll(async () => (await track(phone.device.id)).length).toBe(1);

    // Dispatched on the first gateway: the phone is sent its jobs, this one among them, through mosquitto.
    const ticket = await inject(env.first, 'POST', '/v1/tickets', { auth: env.first.tenant.secretKey, body: BIN_REPORT });
    const dispatched = await inject(env.first, 'POST', `/v1/tickets/${ticket.body.id}/dispatch`, {
      auth: env.first.tenant.secretKey,
      body: { unitId: 'sanitation', assigneeId: 'w-2' },
    });
    expect(dispatched.status, JSON.stringify(dispatched.body)).toBe(200);
    await expect.poll(() => received.length).toBe(1);
    const regions = new Map<number, OwnTracksRegion>();
    androidAppliesWaypoints(regions, received[0]!.message);
    expect([...regions.values()]).toEqual([
      {
        name: `${ticket.body.number} 垃圾桶满溢 Tianhe Rd bus stop`,
        lat: BIN_REPORT.location.lat,
        lon: BIN_REPORT.location.lon,
        radius: 30,
        tst: 1e9,
        watched: true,
      },
    ]);

    const located = await inject(env.second, 'POST', `/v1/devices/${phone.device.id}/locate`, { auth: env.first.tenant.secretKey });
    expect(located.status, JSON.stringify(located.body)).toBe(200);
    expect(located.body).toMatchObject({ lat: 23.125 });
    expect(received.map(({ topic, message }) => [topic, message.action, message.commandId])).toEqual([
      [`${phone.topic}/cmd`, 'setWaypoints', expect.any(String)],
      [`${phone.topic}/cmd`, 'reportLocation', expect.any(String)],
    ]);
    // Both left the outbox: mosquitto took them for the phone.
    await expect.poll(() => env.first.redis.client.llen(outbox)).toBe(0);
  });

  it('seals commands for an app that encrypts, and sends a request that found it away once it is heard from', async () => {
    const key = '环卫三班 key';
    const phone = await registerPhone({ staffId: 'w-sun', ownTracksKey: key });
    // A clean session, not yet subscribed: nobody takes the request when it is made.
    const app = await connectAsApp(phone, { clean: true });
    const tst = Math.floor(Date.now() / 1000) - 20;
    await app.publishAsync(phone.topic, ownTracksEncrypted(key, fix(23.11, tst)), { qos: 1 });
    await expect.poll(async () => (await track(phone.device.id)).map((r) => r.lat)).toEqual([23.11]);

    const commands: unknown[] = [];
    app.on('message', (_topic, payload) => {
      const sealed = JSON.parse(payload.toString()) as { _type: string; data: string; commandId: string };
      const command = JSON.parse(openWithLibsodium(key, sealed.data)) as { action: string };
      commands.push({ ...sealed, data: command });
      if (command.action === 'reportLocation')
        void app.publishAsync(phone.topic, ownTracksEncrypted(key, fix(23.115, Math.floor(Date.now() / 1000), { t: 'r' })), { qos: 1 });
    });
    const kept = commandsKept();
    const locating = inject(env.first, 'POST', `/v1/devices/${phone.device.id}/locate`, { auth: env.first.tenant.secretKey });
    // The broker answered both publishes "no matching subscribers": the request waits in the outbox.
    await expect.poll(commandsKept).toBe(kept + 1);
    expect(commands).toEqual([]);
    expect(await grant(app, `${phone.topic}/cmd`)).toEqual([1]);
    // Heard from again: the gateway that stores the location sends the request.
    await app.publishAsync(phone.topic, ownTracksEncrypted(key, fix(23.112, tst + 5)), { qos: 1 });
    // That location is already the phone heard from again, and the answer; the app's own reply
    // follows, and may already be stored when the locate looks (it reads the state every 200 ms):
    // either is a position heard after the question, and the locate answers the newest it finds.
    const located = await locating;
    expect(located.status, JSON.stringify(located.body)).toBe(200);
    expect([23.112, 23.115]).toContain((located.body as { lat: number }).lat);
    await expect.poll(() => commands).toEqual([{ _type: 'encrypted', commandId: expect.any(String), data: { _type: 'cmd', action: 'reportLocation' } }]);
    await expect.poll(async () => (await track(phone.device.id)).map((r) => r.lat)).toEqual([23.11, 23.112, 23.115]);
    await expect.poll(() => env.first.redis.client.llen(tenantKeys(env.first.tenant.id).mqttOutbox(phone.device.id))).toBe(0);
  });

  it('gives a device registered by an older version its OwnTracks topics when its secret is rotated', async () => {
    const phone = await registerPhone({ staffId: 'w-1' });
    // What the older version's role allowed: the native topics only.
    const role = `civicloop.${env.first.tenant.id}.${phone.device.id}`;
    env.broker.dynsec('removeRoleACL', role, 'publishClientSend', `owntracks/${phone.credential.username}/+`);
    const tst = Math.floor(Date.now() / 1000) - 10;
    // MQTT 5, so that the broker says what it refused (PUBACK 135, not authorized).
    const before = await connectAsApp(phone, { protocolId: 'MQTT', protocolVersion: 5, will: undefined });
    await expect(before.publishAsync(phone.topic, location(23.1, tst), { qos: 1 })).rejects.toMatchObject({ code: 135 });
    before.end(true);

    const rotated = await inject(env.second, 'POST', `/v1/devices/${phone.device.id}/credentials`, { auth: env.first.tenant.secretKey });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const credential = (rotated.body as { credential: Phone['credential'] }).credential;
    const after = await connectAsApp({ ...phone, credential }, { protocolId: 'MQTT', protocolVersion: 5, will: undefined });
    await after.publishAsync(phone.topic, location(23.101, tst + 1), { qos: 1 });
    await expect.poll(async () => (await track(phone.device.id)).map((r) => r.lat)).toEqual([23.101]);
  });
});
