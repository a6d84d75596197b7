import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeTopic } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { inject, digestRedis, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { HOSTILE_NUMBERS, HOSTILE_STRINGS, anyJson } from '@civicloop/test-support/fuzz.js';

/**
 * Every telemetry topic and format, with hostile payloads, from an authenticated device with a
 * persistent session. For every message: acknowledged (PUBACK), the connection kept, no crash,
 * nothing written in Redis by a refused message but the device's own refusal tally, and a good
 * device beside it still stored. Bounded in time by FUZZ_SECONDS (default 60), a quarter of it here.
 */
const BUDGET_MS = (Number(process.env.FUZZ_SECONDS ?? 60) * 1000) / 4;
let redis: TestRedis;
let gw: TestGateway;
let hostileDevice: { id: string; client: MqttClient };
let goodDevice: { id: string; client: MqttClient };
const TALLY = ['refused', 'lastRefusedReason', 'lastRefusedAt', 'ignored', 'lastIgnoredReason', 'lastIgnoredAt'];

async function device(name: string, clientId: string) {
  const registered = await inject(gw, 'POST', '/v1/devices', {
    auth: gw.tenant.secretKey,
    body: { kind: 'badge', name, staffId: name === 'Hostile' ? 'w-1' : 'w-2' },
  });
  const { username, password } = registered.body.credential;
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
    username,
    password,
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  return { id: registered.body.device.id as string, client };
}

beforeAll(async () => {
  redis = await startTestRedis({ digest: true });
  gw = await startTestGateway({ webhooksEnabled: false }, { redis, telemetry: true });
  hostileDevice = await device('Hostile', 'fuzz-hostile');
  goodDevice = await device('Good', 'fuzz-good');
}, 60_000);
afterAll(async () => {
  hostileDevice?.client.end(true);
  goodDevice?.client.end(true);
  await gw?.close();
  await redis?.stop();
});

/** The dataset's digest with the hostile device's own refusal tally set aside. */
async function digestWithoutTally(): Promise<string> {
  const key = tenantKeys(gw.tenant.id).deviceState(hostileDevice.id);
  const saved = await redis.client.hgetall(key);
  const tally = TALLY.filter((field) => field in saved);
  if (tally.length === 0) return digestRedis(redis.client);
  // Measured on a copy without the tally, then put back exactly as it was.
  await redis.client.hdel(key, ...tally);
  const digest = await digestRedis(redis.client);
  await redis.client.hset(key, Object.fromEntries(tally.map((field) => [field, saved[field]!])));
  return digest;
}

const counted = async () => {
  const c = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body as {
    rejected: Record<string, number>;
    ignored: Record<string, number>;
    deniedPublishes: number;
  };
  return Object.values(c.rejected).reduce((a, b) => a + b, 0) + Object.values(c.ignored).reduce((a, b) => a + b, 0);
};

describe('telemetry fuzz', () => {
  it('acknowledges every hostile message on every topic and format, keeps the device, writes nothing for a refusal', {
    timeout: BUDGET_MS + 60_000,
  }, async () => {
    const t = gw.tenant.id;
    const id = () => hostileDevice.id;
    const topics = fc.oneof(
      fc.constantFrom(
        nativeTopic(t, 'badge', id(), 'position'),
        nativeTopic(t, 'badge', id(), 'event'),
        nativeTopic(t, 'badge', id(), 'status'),
        nativeTopic(t, 'badge', id(), 'cmd'),
        `owntracks/${id()}/phone`,
        `owntracks/${id()}/phone/event`,
        `owntracks/${id()}/phone/waypoints`,
        `owntracks/${id()}/phone/cmd`,
        'v1/devices/me/telemetry',
        'v1/devices/me/rpc/response/1',
        'v1/devices/me/rpc/request/1',
        'v1/devices/me/attributes',
        nativeTopic(t, 'badge', goodDevice.id, 'position'),
        nativeTopic(t, 'vehicle', id(), 'position'),
        '$SYS/broker/clients',
        `civicloop/${t}`,
      ),
      // Any topic a client may name (MQTT forbids wildcards in a PUBLISH: those close by the spec).
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what MQTT forbids in a topic name, so it is what this leaves out
      fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !/[+#\u0000]/.test(s)),
    );
    const now = Date.now();
    const number = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS, now, Math.floor(now / 1000), 23.1, 113.3), fc.double());
    const value = fc.oneof(number, fc.constantFrom(...HOSTILE_STRINGS), fc.boolean(), fc.constant(null), anyJson);
    const shaped = fc.oneof(
      fc.record({ ts: value, lat: value, lon: value, speed: value, battery: value, valid: value }, { requiredKeys: [] }),
      fc.record(
        { type: fc.oneof(fc.constantFrom('sos', 'check_in', 'check_out', 'fall', 'low_battery'), value), ts: value, lat: value, lon: value, note: value },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          _type: fc.oneof(fc.constantFrom('location', 'transition', 'lwt', 'waypoint', 'card', 'encrypted'), value),
          lat: value,
          lon: value,
          tst: value,
          batt: value,
          event: value,
          desc: value,
        },
        { requiredKeys: [] },
      ),
      fc.record(
        { ts: value, values: fc.dictionary(fc.constantFrom('latitude', 'longitude', 'speed', 'heading', 'batteryLevel', 'x'), value) },
        { requiredKeys: [] },
      ),
      fc.array(fc.dictionary(fc.constantFrom('latitude', 'longitude', 'ts', 'values'), value), { maxLength: 4 }),
      anyJson,
    );
    const payload = fc.oneof(
      { weight: 6, arbitrary: shaped.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.alloc(40 * 1024, 0x7b), Buffer.from('{"ts": 1e400}'), Buffer.from(`[${'['.repeat(5000)}`)),
      },
    );
    let good = 0;
    await fc.assert(
      fc.asyncProperty(topics, payload, fc.constantFrom<0 | 1>(0, 1, 1), async (topic, body, qos) => {
        const before = await digestWithoutTally();
        const refusalsBefore = await counted();
        // QoS 1 resolves on PUBACK; QoS 0 has none, so a QoS 1 ping follows it to wait for it.
        await hostileDevice.client.publishAsync(topic, body, { qos });
        if (qos === 0) await hostileDevice.client.publishAsync(`owntracks/${id()}/phone/step`, '{}', { qos: 1 });
        expect(hostileDevice.client.connected, `${topic} ${body.subarray(0, 80).toString()}`).toBe(true);
        const refused = (await counted()) - refusalsBefore >= (qos === 0 ? 2 : 1);
        if (refused) expect(await digestWithoutTally(), `a refused message wrote to Redis: ${topic} ${body.subarray(0, 80).toString()}`).toBe(before);
        // The good device beside it is still served, and its fix stored.
        const ts = Date.now() - 1000 + (good++ % 1000);
        await goodDevice.client.publishAsync(nativeTopic(t, 'badge', goodDevice.id, 'position'), JSON.stringify({ ts, lat: 23.12, lon: 113.32 }), { qos: 1 });
        expect(Number(await redis.client.hget(tenantKeys(t).deviceState(goodDevice.id), 'fixTime'))).toBeGreaterThanOrEqual(ts);
      }),
      { numRuns: 600, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
    );
    expect(good).toBeGreaterThan(50);
    const shown = (await inject(gw, 'GET', `/v1/devices/${hostileDevice.id}/state`, { auth: gw.tenant.secretKey })).body;
    expect(shown.refused.count).toBeGreaterThan(10);
  });
});
