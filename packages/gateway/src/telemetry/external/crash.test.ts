import type { ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { freePort } from '@civicloop/gateway';
import { api, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { startGatewayProcess } from '@civicloop/test-support/gateway-process.js';
import { startTestMosquitto, type TestMosquitto } from '@civicloop/test-support/mosquitto.js';
import { tenantKeys } from '../../redis/keys.js';

// Two gateways share mosquitto's shared subscription; one of them, a process of its own, is
// killed (SIGKILL) while a vehicle streams positions, and started again under the same client id.
let broker: TestMosquitto;
let redis: TestRedis;
let survivor: TestGateway;
let victim: ChildProcess | undefined;
let device: MqttClient | undefined;

const TOTAL = 1000;

beforeAll(async () => {
  broker = await startTestMosquitto();
  redis = await startTestRedis();
  survivor = await startTestGateway(
    {
      mqttBrokerUrl: broker.url,
      mqttBrokerUsername: broker.admin.username,
      mqttBrokerPassword: broker.admin.password,
      mqttBrokerClientId: 'crash-survivor',
      mqttBrokerSubscribers: 1,
      mqttBrokerDynsec: true,
      jt808Port: false,
    },
    { telemetry: true, redis },
  );
}, 30_000);
afterAll(async () => {
  device?.end(true);
  victim?.kill('SIGKILL');
  await survivor?.close();
  await redis?.stop();
  await broker?.stop();
});

describe('a gateway that goes away while it consumes from the external broker', () => {
  it('loses nothing: what it had been given and not acknowledged comes back to it under its client id, stored once', { timeout: 90_000 }, async () => {
    const env = {
      REDIS_URL: redis.url,
      PORT: String(await freePort()),
      JT808_PORT: 'false',
      MQTT_BROKER_URL: broker.url,
      MQTT_BROKER_USERNAME: broker.admin.username,
      MQTT_BROKER_PASSWORD: broker.admin.password,
      MQTT_BROKER_CLIENT_ID: 'crash-victim',
      MQTT_BROKER_SUBSCRIBERS: '1',
      MQTT_BROKER_DYNSEC: 'true',
      LOG_LEVEL: 'error',
      CIVICLOOP_MASTER_KEY: 'test-master-key',
    };
    victim = await startGatewayProcess(env);

    const registered = await api(survivor.url, 'POST', '/v1/devices', { auth: survivor.tenant.secretKey, body: { kind: 'vehicle', name: 'Truck under test' } });
    expect(registered.status).toBe(201);
    const { device: truck, credential } = registered.body as { device: { id: string }; credential: { username: string; password: string } };
    const track = tenantKeys(survivor.tenant.id).track(truck.id);
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: credential.username, password: credential.password, reconnectPeriod: 0 });
    const topic = nativeTopic(survivor.tenant.id, 'vehicle', truck.id, 'position');
    const start = Date.now() - 600_000;

    // Twenty in flight at a time; the victim dies once a third has been accepted by the broker.
    let acknowledged = 0;
    let killed: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, TOTAL - i) }, (_, j) =>
          device!
            .publishAsync(topic, JSON.stringify({ ts: start + (i + j) * 100, lat: 23.1291 + (i + j) * 1e-6, lon: 113.2644 }), { qos: 1 })
            .then(() => acknowledged++),
        ),
      );
      if (!killed && acknowledged >= TOTAL / 3) {
        const proc = victim;
        killed = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGKILL');
      }
    }
    await killed;
    expect(acknowledged).toBe(TOTAL);

    // While the victim is away, what the broker had given it waits in its session.
    await expect.poll(async () => survivor.telemetry!.counters.of(survivor.tenant.id).messages, { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    const beforeRestart = await redis.client.xlen(track);
    console.log(`stored before the victim came back: ${beforeRestart} of ${TOTAL}; waiting in its session: ${TOTAL - beforeRestart}`);
    // mosquitto 2.0 goes on giving the dead member of the group its turn, queued in its session:
    // so there is always something only the victim's return can store.
    expect(beforeRestart).toBeLessThan(TOTAL);

    victim = await startGatewayProcess(env);
    await expect.poll(() => redis.client.xlen(track), { timeout: 30_000 }).toBe(TOTAL);
    // Once, not twice: a resent message is recognised by its device and fix time.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await redis.client.xlen(track)).toBe(TOTAL);
    const fixes = (await redis.client.xrange(track, '-', '+')).map(([, fields]) => fields.join(' '));
    expect(new Set(fixes).size).toBe(TOTAL);
  });

  it('hands over when it stops instead: it leaves the group, and the others store everything without it coming back', { timeout: 60_000 }, async () => {
    const leaver = await startTestGateway(
      {
        mqttBrokerUrl: broker.url,
        mqttBrokerUsername: broker.admin.username,
        mqttBrokerPassword: broker.admin.password,
        mqttBrokerClientId: 'leaver',
        mqttBrokerSubscribers: 1,
        mqttBrokerDynsec: true,
        jt808Port: false,
      },
      { telemetry: true, redis },
    );
    const registered = await api(survivor.url, 'POST', '/v1/devices', {
      auth: survivor.tenant.secretKey,
      body: { kind: 'vehicle', name: 'Truck during a rolling restart' },
    });
    const { device: truck, credential } = registered.body as { device: { id: string }; credential: { username: string; password: string } };
    const track = tenantKeys(survivor.tenant.id).track(truck.id);
    const publisher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      username: credential.username,
      password: credential.password,
      reconnectPeriod: 0,
    });
    const topic = nativeTopic(survivor.tenant.id, 'vehicle', truck.id, 'position');
    const start = Date.now() - 600_000;
    let stopped: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          publisher.publishAsync(topic, JSON.stringify({ ts: start + (i + j) * 100, lat: 23.13 + (i + j) * 1e-6, lon: 113.26 }), { qos: 1 }),
        ),
      );
      if (!stopped && i >= TOTAL / 3) stopped = leaver.close();
    }
    await stopped;
    const stoppedCounters = leaver.telemetry!.counters.of(survivor.tenant.id).positionsStored;
    // Everything, without the stopped gateway coming back: nothing was left waiting in its session.
    await expect.poll(() => redis.client.xlen(track), { timeout: 20_000 }).toBe(TOTAL);
    expect(stoppedCounters).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await redis.client.xlen(track)).toBe(TOTAL);
    publisher.end(true);
  });
});
