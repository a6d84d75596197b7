import { describe, expect, it } from 'vitest';
import { useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import {
  owntracksAndroidConnection,
  owntracksAndroidSubscriptions,
  owntracksIosConnection,
  owntracksIosSubscriptions,
} from '@civicloop/test-support/owntracks-app.js';
import { tenantKeys } from '../../redis/keys.js';
import { decodeStoredPosition } from '../../store/stored-position.js';

const devices = useDeviceGateway();

/** Asks for the device's position over HTTP, as a dispatcher's console does; the answer's body once it is 200. */
async function locate(deviceId: string): Promise<unknown> {
  const located = await fetch(`${devices.gw.url}/v1/devices/${deviceId}/locate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` },
  });
  expect(located.status, await located.clone().text()).toBe(200);
  return located.json();
}

describe('the OwnTracks apps with their default settings, on the embedded broker', () => {
  it('OwnTracks for Android: connects over MQTT 3.1, has its retained locations stored and not kept, and is asked where it is', async () => {
    const { device, credential } = await devices.register({ name: "Li's phone" });
    const settings = { username: credential.username, password: credential.password, deviceId: device.id };
    const app = await devices.connect(credential.username, credential.password, owntracksAndroidConnection(settings));
    // The app's one SUBSCRIBE: friends' locations, events, cards and status (refused: every phone
    // is kept to its own) and its own command topic (granted at the QoS asked, 2).
    const topics = owntracksAndroidSubscriptions(settings);
    // mqtt.js rejects a SUBACK with a refusal in it, with the packet on the error.
    const granted = await app.subscribeAsync(topics, { qos: 2 }).then(
      (grants) => grants.map((g) => g.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
    );
    expect(granted).toEqual(topics.map((topic) => (topic.endsWith('/cmd') ? 2 : 128)));

    const base = `owntracks/${credential.username}/${device.id}`;
    const tst = Math.floor(Date.now() / 1000) - 30;
    // Locations go out retained at QoS 1 by default (pubRetain, pubQos).
    await app.publishAsync(base, JSON.stringify({ _type: 'location', lat: 23.12, lon: 113.26, tst, acc: 9, t: 'p', tid: 'li' }), { qos: 1, retain: true });
    const track = async () =>
      (await devices.gw.redis.client.xrange(tenantKeys(devices.gw.tenant.id).track(device.id), '-', '+')).map(([, f]) => decodeStoredPosition(f[1]!).lat);
    expect(await track()).toEqual([23.12]);
    // Nothing was left retained on the broker: a client subscribing afresh to the topic gets nothing.
    const retained: unknown[] = [];
    const persistence = (devices.gw.telemetry!.broker as unknown as { persistence: { createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> } })
      .persistence;
    for await (const packet of persistence.createRetainedStreamCombi(['#'])) retained.push(packet);
    expect(retained).toEqual([]);

    const commands: { qos: number; message: unknown }[] = [];
    app.on('message', (_topic, payload, packet) => {
      const message = JSON.parse(payload.toString()) as { action?: string };
      commands.push({ qos: packet.qos, message });
      if (message.action === 'reportLocation')
        void app.publishAsync(base, JSON.stringify({ _type: 'location', lat: 23.121, lon: 113.26, tst: Math.floor(Date.now() / 1000), t: 'r' }), {
          qos: 1,
          retain: true,
        });
    });
    expect(await locate(device.id)).toMatchObject({ lat: 23.121 });
    // Sent at QoS 1, never above it, though the subscription was granted 2.
    expect(commands).toEqual([{ qos: 1, message: { _type: 'cmd', action: 'reportLocation', commandId: expect.any(String) } }]);
  });

  it('OwnTracks for iOS: connects over MQTT 3.1.1, subscribes one topic at a time, and, with remote commands on, is asked where it is', async () => {
    const { device, credential } = await devices.register({ name: "Chen's iPhone" });
    const settings = { username: credential.username, password: credential.password, deviceId: device.id };
    const app = await devices.connect(credential.username, credential.password, owntracksIosConnection(settings));
    const granted: number[] = [];
    for (const topic of owntracksIosSubscriptions(settings))
      granted.push(
        ...(await app.subscribeAsync(topic, { qos: 1 }).then(
          (grants) => grants.map((g) => g.qos),
          (error: { packet?: { granted?: number[] } }) => error.packet?.granted ?? [],
        )),
      );
    // Everyone's locations, events and cards are refused; its own command topic is granted.
    expect(granted).toEqual([128, 128, 128, 1]);

    const base = `owntracks/${credential.username}/${device.id}`;
    const commands: unknown[] = [];
    app.on('message', (_topic, payload) => {
      const message = JSON.parse(payload.toString()) as { action?: string };
      commands.push(message);
      // The app's cmd setting is off by default: this phone has it on.
      if (message.action === 'reportLocation')
        void app.publishAsync(base, JSON.stringify({ _type: 'location', lat: 23.131, lon: 113.32, tst: Math.floor(Date.now() / 1000), t: 'r' }), {
          qos: 1,
          retain: true,
        });
    });
    await app.publishAsync(base, JSON.stringify({ _type: 'location', lat: 23.13, lon: 113.32, tst: Math.floor(Date.now() / 1000) - 30, t: 'u' }), {
      qos: 1,
      retain: true,
    });
    expect(await locate(device.id)).toMatchObject({ lat: 23.131 });
    expect(commands).toEqual([{ _type: 'cmd', action: 'reportLocation', commandId: expect.any(String) }]);
  });
});
