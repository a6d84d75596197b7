import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { inject } from '@civicloop/test-support/gateway-harness.js';
import { useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import { openWithLibsodium, ownTracksEncrypted } from '@civicloop/test-support/libsodium-seal.js';
import { tenantKeys } from '../../redis/keys.js';
import { decodeStoredPosition } from '../../store/stored-position.js';

const devices = useDeviceGateway();
/** Connects as the OwnTracks app does: its own client id, a persistent session, the device id and secret. */
const connectAsApp = (username: string, password: string) => devices.connect(username, password, { clientId: `${username}-pixel`, clean: false });

const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
const track = async (deviceId: string) =>
  (await devices.gw.redis.client.xrange(tenantKeys(devices.gw.tenant.id).track(deviceId), '-', '+')).map(([, fields]) => decodeStoredPosition(fields[1]!));
const refused = async (deviceId: string) =>
  ((await inject(devices.gw, 'GET', `/v1/devices/${deviceId}/state`, { auth: devices.gw.tenant.secretKey })).body as { refused: unknown }).refused;
const setKey = (deviceId: string, ownTracksKey: string | null) =>
  inject(devices.gw, 'PATCH', `/v1/devices/${deviceId}`, { auth: devices.gw.tenant.secretKey, body: { ownTracksKey } });

describe('encrypted OwnTracks messages over MQTT', () => {
  it("are opened with the device's key; a new key is taken up when the app reconnects, as the change closes its connection", async () => {
    const { device, credential } = await devices.register({ ownTracksKey: 'first key' });
    const topic = `owntracks/${device.id}/pixel`;
    const tst = Math.floor(Date.now() / 1000) - 60;
    const fix = (lat: number, at: number) => ({ _type: 'location', lat, lon: 113.26, tst: at, acc: 6, batt: 64, tid: 'li' });

    let app = await connectAsApp(credential.username, credential.password);
    // A PUBACK means stored (or refused for good): nothing to wait for after it.
    await app.publishAsync(topic, ownTracksEncrypted('first key', fix(23.11, tst)), { qos: 1 });
    await app.publishAsync(
      `${topic}/event`,
      ownTracksEncrypted('first key', { _type: 'transition', event: 'leave', desc: 'Depot', lat: 23.12, lon: 113.26, tst: tst + 1 }),
      { qos: 1 },
    );
    expect((await track(device.id)).map((r) => [r.lat, r.alarms])).toEqual([
      [23.11, []],
      [23.12, ['leave:Depot']],
    ]);
    // The app's key changed before the gateway's: refused, and the connection stays up.
    await app.publishAsync(topic, ownTracksEncrypted('second key', fix(23.13, tst + 2)), { qos: 1 });
    expect(await refused(device.id)).toMatchObject({ count: 1, lastReason: 'undecryptable' });
    expect(app.connected).toBe(true);

    const disconnected = closed(app);
    expect((await setKey(device.id, 'second key')).status).toBe(200);
    await disconnected;
    app = await connectAsApp(credential.username, credential.password);
    await app.publishAsync(topic, ownTracksEncrypted('second key', fix(23.14, tst + 3)), { qos: 1 });
    expect((await track(device.id)).map((r) => r.lat)).toEqual([23.11, 23.12, 23.14]);

    // Asked where it is, the app is sent reportLocation sealed with its key (opened here with
    // libsodium, as the app opens it), and answers with a sealed location.
    const commands: unknown[] = [];
    const phone = app;
    phone.on('message', (_topic, payload) => {
      const sealed = JSON.parse(payload.toString()) as { _type: string; data: string };
      const command = JSON.parse(openWithLibsodium('second key', sealed.data)) as { action: string };
      commands.push({ ...sealed, data: command });
      if (command.action === 'reportLocation')
        void phone.publishAsync(topic, ownTracksEncrypted('second key', { ...fix(23.141, tst + 10), t: 'r' }), { qos: 1 });
    });
    await phone.subscribeAsync(`owntracks/${device.id}/${device.id}/cmd`, { qos: 1 });
    const located = await inject(devices.gw, 'POST', `/v1/devices/${device.id}/locate`, { auth: devices.gw.tenant.secretKey });
    expect(located.status, JSON.stringify(located.body)).toBe(200);
    expect(located.body).toMatchObject({ lat: 23.141 });
    expect(commands).toEqual([{ _type: 'encrypted', commandId: expect.any(String), data: { _type: 'cmd', action: 'reportLocation' } }]);

    // Encryption turned off on the gateway but not in the app: nothing it sends can be read.
    const again = closed(app);
    expect((await setKey(device.id, null)).status).toBe(200);
    await again;
    app = await connectAsApp(credential.username, credential.password);
    await app.publishAsync(topic, ownTracksEncrypted('second key', fix(23.15, tst + 4)), { qos: 1 });
    expect(await refused(device.id)).toMatchObject({ count: 2, lastReason: 'no_key' });
    await app.publishAsync(topic, JSON.stringify(fix(23.16, tst + 5)), { qos: 1 });
    expect((await track(device.id)).map((r) => r.lat)).toEqual([23.11, 23.12, 23.14, 23.141, 23.16]);
  });
});
