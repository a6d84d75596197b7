import { describe, expect, it, vi } from 'vitest';
import { THINGSBOARD_SUBSCRIPTIONS, THINGSBOARD_TELEMETRY } from '@civicloop/model';
import { SAMPLE_ASSIGNMENT, useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';

const devices = useDeviceGateway();
const { register, connect, giveCommand } = devices;
const RPC_REQUEST = /^v1\/devices\/me\/rpc\/request\/(\d+)$/;

const locate = (deviceId: string) =>
  fetch(`${devices.gw.url}/v1/devices/${deviceId}/locate`, { method: 'POST', headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` } });

/** ThingsBoard-style firmware: its secret as the username, no password, subscribed to what ThingsBoard's device SDKs subscribe to. */
async function firmware(secret: string, options: { clean: boolean; qos: 0 | 1; clientId: string }) {
  const client = await connect(secret, '', { clean: options.clean, clientId: options.clientId });
  const received: { topic: string; qos: number; body: { method: string; params: Record<string, unknown> } }[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, qos: packet.qos, body: JSON.parse(payload.toString()) }));
  // One SUBSCRIBE each, as ThingsBoard's Python SDK sends them on connecting.
  const granted = [];
  for (const topic of THINGSBOARD_SUBSCRIPTIONS) granted.push(...(await client.subscribeAsync(topic, { qos: options.qos })));
  return { client, granted: granted.map((g) => g.qos), received };
}

const outboxLength = (deviceId: string) => devices.gw.redis.client.llen(tenantKeys(devices.gw.tenant.id).mqttOutbox(deviceId));

describe('commands to ThingsBoard-style firmware, as server-side RPC', () => {
  it('asks it where it is with a reportLocation RPC on its own connection only, and answers with the position it publishes', async () => {
    const a = await register({ kind: 'badge', name: 'TB badge A' });
    const b = await register({ kind: 'badge', name: 'TB badge B' });
    const first = await firmware(a.credential.password, { clean: true, qos: 1, clientId: 'tb-a' });
    const second = await firmware(b.credential.password, { clean: true, qos: 1, clientId: 'tb-b' });
    // All four granted (before, each got SUBACK 0x80 and the firmware could take no command).
    expect(first.granted).toEqual([1, 1, 1, 1]);
    expect(second.granted).toEqual([1, 1, 1, 1]);
    await first.client.publishAsync(THINGSBOARD_TELEMETRY, JSON.stringify({ ts: Date.now() - 60_000, values: { latitude: 23.1, longitude: 113.2 } }), {
      qos: 1,
    });
    // The firmware answers as ThingsBoard's RPC example does (the request echoed on rpc/response/<id>),
    // then publishes a fresh fix.
    first.client.on('message', (topic, payload) => {
      const id = RPC_REQUEST.exec(topic)?.[1];
      if (!id) return;
      void first.client.publishAsync(`v1/devices/me/rpc/response/${id}`, payload, { qos: 1 });
      void first.client.publishAsync(THINGSBOARD_TELEMETRY, JSON.stringify({ latitude: 23.125, longitude: 113.275, accuracy: 5 }), { qos: 1 });
    });
    // Device B calls an RPC of its own and sends attributes: they must reach nobody, A included.
    await second.client.publishAsync('v1/devices/me/rpc/request/1', JSON.stringify({ method: 'getCurrentTime', params: {} }), { qos: 1 });
    await second.client.publishAsync('v1/devices/me/attributes', JSON.stringify({ firmwareVersion: '1.0.3' }), { qos: 1 });

    const res = await locate(a.device.id);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ lat: 23.125, lon: 113.275, crs: 'wgs84' });
    expect(first.received).toEqual([
      { topic: expect.stringMatching(RPC_REQUEST), qos: 1, body: { method: 'reportLocation', params: { commandId: expect.any(String) } } },
    ]);
    expect(second.received).toEqual([]);
    // The reply, the RPC call and the attributes are acknowledged and set aside, not refused.
    await vi.waitFor(async () => {
      const state = await fetch(`${devices.gw.url}/v1/devices/${a.device.id}/state`, { headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` } });
      expect(await state.json()).toMatchObject({ ignored: { count: 1, lastReason: 'unused_topic' } });
    });
    const stateOfB = await fetch(`${devices.gw.url}/v1/devices/${b.device.id}/state`, { headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` } });
    const bodyOfB = await stateOfB.json();
    expect(bodyOfB).toMatchObject({ ignored: { count: 2, lastReason: 'unused_topic' } });
    expect(bodyOfB.refused).toBeNull();
  });

  it('answers an attribute request as ThingsBoard answers a device with no attributes, on the asking connection only', async () => {
    const a = await register({ kind: 'badge', name: 'TB badge C' });
    const b = await register({ kind: 'badge', name: 'TB badge D' });
    const first = await firmware(a.credential.password, { clean: true, qos: 1, clientId: 'tb-c' });
    const second = await firmware(b.credential.password, { clean: true, qos: 0, clientId: 'tb-d' });
    // What ThingsBoard's device SDKs send when firmware asks for its shared attributes on starting.
    await first.client.publishAsync('v1/devices/me/attributes/request/7', JSON.stringify({ sharedKeys: 'targetFwVersion,interval' }), { qos: 1 });
    await vi.waitFor(() => expect(first.received).toEqual([{ topic: 'v1/devices/me/attributes/response/7', qos: 1, body: {} }]));
    // B's own request is answered to B alone, at the QoS it was granted; A's answer never reached it.
    await second.client.publishAsync('v1/devices/me/attributes/request/8', '{}', { qos: 1 });
    await vi.waitFor(() => expect(second.received).toEqual([{ topic: 'v1/devices/me/attributes/response/8', qos: 0, body: {} }]));
    expect(first.received).toHaveLength(1);
  });

  it('sends an assignment as an RPC, kept until acknowledged on a persistent session, and never above the QoS granted', async () => {
    const persistent = await register({ kind: 'badge', name: 'TB badge, persistent' });
    await giveCommand(persistent.device.id, SAMPLE_ASSIGNMENT);
    expect(await outboxLength(persistent.device.id)).toBe(1);
    // Away when it was given: it is sent once the firmware subscribes.
    const atLeastOnce = await firmware(persistent.credential.password, { clean: false, qos: 1, clientId: 'tb-persistent' });
    await vi.waitFor(() => expect(atLeastOnce.received).toHaveLength(1));
    const [{ method, params }] = atLeastOnce.received.map((m) => m.body) as [{ method: string; params: Record<string, unknown> }];
    expect(method).toBe('assignment');
    const { type: _type, ...fields } = SAMPLE_ASSIGNMENT;
    expect(params).toEqual({ ...fields, commandId: expect.any(String) });
    expect(atLeastOnce.received[0]!.qos).toBe(1);
    // mqtt.js acknowledges it (PUBACK): then it leaves the outbox.
    await vi.waitFor(async () => expect(await outboxLength(persistent.device.id)).toBe(0));

    const qos0 = await register({ kind: 'badge', name: 'TB badge, QoS 0' });
    const atMostOnce = await firmware(qos0.credential.password, { clean: false, qos: 0, clientId: 'tb-qos0' });
    await giveCommand(qos0.device.id, SAMPLE_ASSIGNMENT);
    await vi.waitFor(() => expect(atMostOnce.received).toHaveLength(1));
    // Granted QoS 0, sent at QoS 0: no PUBACK will come, so it leaves the outbox once written.
    expect(atMostOnce.received[0]!.qos).toBe(0);
    await vi.waitFor(async () => expect(await outboxLength(qos0.device.id)).toBe(0));
  });
});
