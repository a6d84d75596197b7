import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  // One second of silence makes a device offline; the sweep then runs every half second.
  gw = await startTestGateway({ deviceOfflineSeconds: 1 }, { telemetry: true });
});
afterAll(async () => gw?.close());

describe('offline after a timeout without data', () => {
  it('marks a quiet device offline, and online again when it speaks', async () => {
    const registered = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'vehicle', name: 'Quiet truck' } });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: registered.body.credential.username,
      password: registered.body.credential.password,
      reconnectPeriod: 0,
    });
    const topic = nativeTopic(gw.tenant.id, 'vehicle', registered.body.device.id, 'position');
    const state = async () => (await inject(gw, 'GET', `/v1/devices/${registered.body.device.id}/state`, { auth: gw.tenant.secretKey })).body;

    await client.publishAsync(topic, JSON.stringify({ ts: Date.now(), lat: 23.1, lon: 113.2 }), { qos: 1 });
    expect((await state()).online).toBe(true);
    let offline = false;
    for (let i = 0; i < 60 && !offline; i++) {
      await new Promise((r) => setTimeout(r, 100));
      offline = (await state()).online === false;
    }
    expect(offline).toBe(true);

    await client.publishAsync(topic, JSON.stringify({ ts: Date.now(), lat: 23.1, lon: 113.2 }), { qos: 1 });
    expect((await state()).online).toBe(true);
    await client.endAsync();
  });
});
