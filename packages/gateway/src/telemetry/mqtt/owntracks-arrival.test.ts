import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, workerWithBadge, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { owntracksAndroidConnection } from '@civicloop/test-support/owntracks-app.js';

// A worker's OwnTracks phone in the Android app's Significant mode (its default): standing still
// at a job, it reports on entering the job's region and then only at its ping, 15 minutes on. The
// gateway asks it where it is once the dwell would be up (a short one here), as the console's
// "locate" does; the app answers with a fix it takes on demand (trigger "r").
let gw: TestGateway;
const clients: MqttClient[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ arrivalEnterMeters: 30, arrivalExitMeters: 60, arrivalDwellSeconds: 2 }, { telemetry: true });
});
afterAll(async () => {
  for (const client of clients) client.end(true);
  await gw?.close();
});

describe('an OwnTracks phone that reports only now and then', () => {
  it('is asked where it is once its dwell at the job would be up, and arrives by its answer, dated when it entered', async () => {
    const { device, credential } = await workerWithBadge(gw, 'w-sig', 'Worker in Significant mode');
    const settings = { username: credential.username, password: credential.password, deviceId: device.id };
    const app = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      ...owntracksAndroidConnection(settings),
      username: credential.username,
      password: credential.password,
      reconnectPeriod: 0,
    });
    clients.push(app);
    const base = `owntracks/${credential.username}/${device.id}`;
    await app.subscribeAsync(`${base}/cmd`, { qos: 2 });
    const ticket = (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body as {
      id: string;
      location: { lat: number; lon: number };
    };
    await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-sig' } });
    const worker = await gw.tenant.token('w-sig', 'worker', { unitId: 'sanitation' });
    expect((await inject(gw, 'POST', `/v1/tickets/${ticket.id}/accept`, { auth: worker, body: {} })).status).toBe(200);
    const status = async () => (await inject(gw, 'GET', `/v1/tickets/${ticket.id}`, { auth: gw.tenant.secretKey })).body;

    // Asked where it is, the app takes a fix on demand and publishes it as a response ("r").
    const at = { lat: ticket.location.lat + 0.0001, lon: ticket.location.lon, acc: 8, tid: 'si' };
    const asked: string[] = [];
    app.on('message', (topic, payload) => {
      const message = JSON.parse(payload.toString()) as { action?: string };
      if (!topic.endsWith('/cmd') || message.action !== 'reportLocation') return;
      asked.push(message.action);
      void app.publishAsync(base, JSON.stringify({ _type: 'location', t: 'r', tst: Math.floor(Date.now() / 1000), ...at }), { qos: 1 });
    });
    const entered = Math.ceil(Date.parse((await status()).acceptedAt) / 1000);
    await expect.poll(() => Date.now() >= entered * 1000).toBe(true);
    await app.publishAsync(`${base}/event`, JSON.stringify({ _type: 'transition', event: 'enter', desc: 'job', t: 'c', tst: entered, ...at }), { qos: 1 });
    await app.publishAsync(base, JSON.stringify({ _type: 'location', t: 'c', tst: entered, ...at }), { qos: 1 });
    expect((await status()).status).toBe('accepted');
    // No ping comes: the request does it.
    await expect.poll(async () => (await status()).status, { timeout: 15_000 }).toBe('on_site');
    expect(asked).toEqual(['reportLocation']);
    expect((await status()).arrivedAt).toBe(new Date(entered * 1000).toISOString());
  });
});
