import { describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { SAMPLE_ASSIGNMENT, useDeviceGateway } from '@civicloop/test-support/device-gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';

const devices = useDeviceGateway();
const { register, connect } = devices;

const locate = (deviceId: string) =>
  fetch(`${devices.gw.url}/v1/devices/${deviceId}/locate`, { method: 'POST', headers: { authorization: `Bearer ${devices.gw.tenant.secretKey}` } });

describe('asking an MQTT device where it is', () => {
  it('sends a native badge report_location and answers with the position it publishes in return', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Badge' });
    const badge = await connect(credential.username, credential.password);
    const position = nativeTopic(devices.gw.tenant.id, 'badge', device.id, 'position');
    await badge.publishAsync(position, JSON.stringify({ ts: Date.now() - 60_000, lat: 23.1, lon: 113.2 }), { qos: 1 });
    const commands: unknown[] = [];
    badge.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { type: string };
      commands.push(command);
      // The badge answers as firmware would: a fresh fix.
      if (command.type === 'report_location') void badge.publishAsync(position, JSON.stringify({ ts: Date.now(), lat: 23.125, lon: 113.275 }), { qos: 1 });
    });
    await badge.subscribeAsync(nativeTopic(devices.gw.tenant.id, 'badge', device.id, 'cmd'), { qos: 1 });
    const res = await locate(device.id);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ lat: 23.125, lon: 113.275, crs: 'wgs84', valid: true });
    expect(commands).toEqual([{ type: 'report_location', commandId: expect.any(String) }]);
  });

  it('asks an OwnTracks phone with reportLocation on the command topic the app subscribes to', async () => {
    const { device, credential } = await register({ kind: 'badge', name: 'Phone' });
    // OwnTracks with remote commands on, its Device ID set to the device id: it subscribes to owntracks/<user>/<Device ID>/cmd.
    const app = await connect(credential.username, credential.password, { clientId: `${device.id}-phone`, clean: false });
    const topic = `owntracks/${device.id}/${device.id}`;
    const tst = Math.floor(Date.now() / 1000);
    await app.publishAsync(topic, JSON.stringify({ _type: 'location', lat: 23.1, lon: 113.2, tst: tst - 120, t: 'u' }), { qos: 1 });
    const received: unknown[] = [];
    app.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { _type: string; action: string };
      received.push(command);
      // The app's answer to reportLocation: a location with trigger "r".
      if (command.action === 'reportLocation')
        void app.publishAsync(topic, JSON.stringify({ _type: 'location', lat: 23.131, lon: 113.32, tst, t: 'r' }), { qos: 1 });
    });
    await app.subscribeAsync(`${topic}/cmd`, { qos: 1 });
    const res = await locate(device.id);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ lat: 23.131, lon: 113.32, fixTime: new Date(tst * 1000).toISOString() });
    expect(received).toEqual([{ _type: 'cmd', action: 'reportLocation', commandId: expect.any(String) }]);
    // An alarm confirmation has no OwnTracks form: the phone is not sent it (the outbox sends
    // oldest first, so had it been sent it would have come before the second location request).
    // An assignment goes as the wearer's jobs, as regions: this phone has no wearer, so none.
    await devices.giveCommand(device.id, { type: 'alarm_confirmation', alarms: ['sos'] });
    await devices.giveCommand(device.id, SAMPLE_ASSIGNMENT);
    expect((await locate(device.id)).status).toBe(200);
    expect(received).toEqual([
      { _type: 'cmd', action: 'reportLocation', commandId: expect.any(String) },
      { _type: 'cmd', action: 'setWaypoints', waypoints: { _type: 'waypoints', waypoints: [] }, commandId: expect.any(String) },
      { _type: 'cmd', action: 'reportLocation', commandId: expect.any(String) },
    ]);
  });

  it('answers 409 at once for a device marked offline, and 504 when a connected one does not answer', async () => {
    const offline = await register({ kind: 'vehicle', name: 'Never seen' });
    const unreachable = await locate(offline.device.id);
    expect(unreachable.status).toBe(409);
    expect((await unreachable.json()).error.code).toBe('CL_ERR_DEVICE_UNREACHABLE');
    // Not asked at all (rather than asked and waited on): nothing was put in its outbox.
    expect(await devices.gw.redis.client.llen(tenantKeys(devices.gw.tenant.id).mqttOutbox(offline.device.id))).toBe(0);
    // Connected and reporting, but its firmware takes no commands (it never subscribes).
    const { device, credential } = await register({ kind: 'vehicle', name: 'Old tracker' });
    const tracker = await connect(credential.username, credential.password);
    await tracker.publishAsync(
      nativeTopic(devices.gw.tenant.id, 'vehicle', device.id, 'position'),
      JSON.stringify({ ts: Date.now() - 1000, lat: 23.1, lon: 113.2 }),
      {
        qos: 1,
      },
    );
    const silent = await locate(device.id);
    expect(silent.status).toBe(504);
    expect((await silent.json()).error).toMatchObject({
      code: 'CL_ERR_DEVICE_TIMEOUT',
      message: expect.stringContaining('not subscribed to its command topic'),
    });
  });
});
