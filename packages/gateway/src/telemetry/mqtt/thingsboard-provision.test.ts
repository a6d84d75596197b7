import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { DEBIAN_PYTHON } from '@civicloop/test-support/libsodium-seal.js';

// ThingsBoard's MQTT provisioning. The whole flow is run by Eclipse Paho's Python client (Debian's
// python3-paho-mqtt) as ThingsBoard's provisioning reference describes it; the refusals with
// mqtt.js. The gateway closes a connection that has not logged in after MQTT_CONNECT_TIMEOUT_MS:
// short here, as the provisioning connection is held to it.
const CONNECT_TIMEOUT_MS = 3_000;
const SCRIPT = fileURLToPath(new URL('../../../../../test-support/python/thingsboard_provision.py', import.meta.url));
let gw: TestGateway;
let port: number;
let key: string;
let secret: string;

beforeAll(async () => {
  gw = await startTestGateway({ mqttConnectTimeoutMs: CONNECT_TIMEOUT_MS }, { telemetry: true });
  port = gw.telemetry!.tcpPort!;
  const made = await inject(gw, 'POST', '/v1/provisioning-profiles', {
    auth: gw.tenant.secretKey,
    body: { name: 'Badges, batch 2026-11', kind: 'badge', unitId: 'sanitation' },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  ({
    provisionDeviceSecret: secret,
    profile: { provisionDeviceKey: key },
  } = made.body as { provisionDeviceSecret: string; profile: { provisionDeviceKey: string } });
});
afterAll(async () => {
  await gw?.close();
});

/** Runs the Paho script; resolves with the lines it printed. */
function paho(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEBIAN_PYTHON, [SCRIPT, '127.0.0.1', String(port), ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`paho exited ${code}: ${out}${err}`))));
  });
}

/** A provisioning connection made with mqtt.js, subscribed to its answers unless told not to; `qos` is what each answer came at. */
async function provisioning(subscribed = true) {
  const client: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'provision', reconnectPeriod: 0, protocolVersion: 4 });
  const answers: Record<string, unknown>[] = [];
  const qos: number[] = [];
  client.on('message', (topic, payload, packet) => {
    if (topic !== PROVISION_RESPONSE_TOPIC) return;
    answers.push(JSON.parse(payload.toString()));
    qos.push(packet.qos);
  });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  if (subscribed) expect((await client.subscribeAsync(PROVISION_RESPONSE_TOPIC, { qos: 1 }))[0]!.qos).toBe(1);
  return { client, answers, qos, closed };
}

describe("ThingsBoard's MQTT provisioning", () => {
  it('provisions a device that then logs in with its token and publishes, as Paho runs the reference flow', async () => {
    const [answer, published] = await paho([key, secret, 'badge-860123456789013', '23.13', '113.27']);
    const body = JSON.parse(answer!) as { status: string; credentialsType: string; credentialsValue: string };
    expect(body).toEqual({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: expect.stringMatching(/^cl_dk_/) });
    expect(published).toBe('published');
    const devices = (await inject(gw, 'GET', '/v1/devices', { auth: gw.tenant.secretKey })).body as {
      items: { id: string; name: string; kind: string; unitId?: string }[];
    };
    const device = devices.items.find((d) => d.name === 'badge-860123456789013');
    expect(device).toMatchObject({ kind: 'badge', unitId: 'sanitation' });
    const state = (await inject(gw, 'GET', `/v1/devices/${device!.id}/state`, { auth: gw.tenant.secretKey })).body as {
      position: { geometry: { coordinates: number[] } } | null;
    };
    expect(state.position?.geometry.coordinates).toEqual([113.27, 23.13]);

    // The same request again, as firmware that lost the answer sends it: the same token, and no second device.
    const [again, publishedAgain] = await paho([key, secret, 'badge-860123456789013', '23.131', '113.271']);
    expect(JSON.parse(again!)).toEqual(body);
    expect(publishedAgain).toBe('published');
    const after = (await inject(gw, 'GET', '/v1/devices', { auth: gw.tenant.secretKey })).body as { items: { name: string }[] };
    expect(after.items.filter((d) => d.name === 'badge-860123456789013')).toHaveLength(1);
  });

  it('answers a wrong secret and a body that is no request on the connection that asked, and nobody else hears them', async () => {
    const listener = await provisioning();
    const { client, answers, qos } = await provisioning();
    await client.publishAsync(PROVISION_REQUEST_TOPIC, JSON.stringify({ deviceName: 'x', provisionDeviceKey: key, provisionDeviceSecret: 'wrong' }), {
      qos: 1,
    });
    await client.publishAsync(PROVISION_REQUEST_TOPIC, 'not json', { qos: 0 });
    await expect.poll(() => answers.length).toBe(2);
    expect(answers).toEqual([
      { status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' },
      { status: 'FAILURE', errorMsg: 'The provisioning request is not JSON.' },
    ]);
    expect(qos).toEqual([1, 1]);
    expect(listener.answers).toEqual([]);
    // Not subscribed, the firmware is answered all the same, at QoS 0, as ThingsBoard answers it.
    const unsubscribed = await provisioning(false);
    await unsubscribed.client.publishAsync(PROVISION_REQUEST_TOPIC, JSON.stringify({ provisionDeviceKey: 'nobodys', provisionDeviceSecret: 'x' }), { qos: 1 });
    await expect.poll(() => unsubscribed.answers).toEqual([{ status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' }]);
    expect(unsubscribed.qos).toEqual([0]);
    await unsubscribed.client.endAsync();
    // Anything else may not be subscribed to.
    await expect(client.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
    for (const c of [client, listener.client]) await c.endAsync();
  });

  it('closes a provisioning connection that publishes elsewhere, and every one once its time to log in is up', async () => {
    const elsewhere = await provisioning();
    elsewhere.client.publish('v1/devices/me/telemetry', JSON.stringify({ latitude: 23.1, longitude: 113.2 }), { qos: 1 });
    await elsewhere.closed;
    // One that stays, answered or not, is closed by the deadline of a connection that has not logged in.
    const timedOut = gw.telemetry!.counters.closedByGuard.timedOut;
    const lingering = await provisioning();
    await lingering.closed;
    expect(gw.telemetry!.counters.closedByGuard.timedOut).toBe(timedOut + 1);
  });

  it('takes a device that logs in as "provision" with a password for a device, not a provisioning request', async () => {
    const refused = mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'provision', password: 'cl_dk_unknown', reconnectPeriod: 0 });
    await expect(refused).rejects.toMatchObject({ code: 4 });
  });
});
