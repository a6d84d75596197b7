/**
 * npm run bench:scale: the scaled-out layout (examples/scaled-out, as `npm run cluster` starts it:
 * a Redis Cluster of 3 masters with BENCH_REPLICAS (1) replica each, mosquitto 2 with dynamic
 * security, two gateways in external-broker mode) against one gateway with its embedded broker on
 * one redis-server (AOF everysec, the default deployment), both on this machine, measured in
 * the same run, alternating for BENCH_ROUNDS (3) rounds; each figure is the median of the rounds.
 *
 *   - ingest: BENCH_DEVICES (50) devices publish BENCH_MESSAGES (1000) positions each at QoS 1,
 *     up to INFLIGHT (20) unacknowledged per device, from a separate process; the rate counts
 *     until the gateways have stored the last one (their counters).
 *   - create: autocannon creates tickets for BENCH_SECONDS (5) with BENCH_CONNECTIONS (32)
 *     connections: against the one gateway, or split evenly over the two.
 *
 * For each load it prints the CPU time each component spent per message or per create (gateway
 * processes, mosquitto, the Redis nodes, the publisher), so that an operator can size a city.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { nativeTopic } from '@civicloop/model';
import { freePort, startRedisServer } from '@civicloop/gateway';
import { startGatewayProcess, startLayout, type GatewayProcess } from '@civicloop/example-scaled-out/layout';
import { cpuMs } from './process-cpu.js';
import { runPublisher } from './run-publisher.js';
import { requestJson } from './json-request.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DEVICES = env('BENCH_DEVICES', 50);
const MESSAGES = env('BENCH_MESSAGES', 1000);
const INFLIGHT = env('INFLIGHT', 20);
const ROUNDS = env('BENCH_ROUNDS', 3);
const SECONDS = env('BENCH_SECONDS', 5);
const CONNECTIONS = env('BENCH_CONNECTIONS', 32);
const REPLICAS = env('BENCH_REPLICAS', 1);

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-scale-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One side of the comparison: its gateways, where devices connect, and the processes whose CPU is counted. */
interface Side {
  name: string;
  gateways: GatewayProcess[];
  brokerUrl: string;
  secretKey: string;
  devices: { username: string; password: string; topic: string }[];
  /** Component name -> pids, read afresh (a process could be restarted). */
  components(): Record<string, number[]>;
}

async function prepare(
  name: string,
  gateways: GatewayProcess[],
  brokerUrl: string,
  operatorToken: string,
  components: () => Record<string, number[]>,
): Promise<Side> {
  const tenant = await requestJson(`${gateways[0]!.url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}` },
    body: JSON.stringify({ code: name.slice(0, 8).toUpperCase(), name: `Scale bench ${name}` }),
  });
  const auth = { authorization: `Bearer ${tenant.secretKey}` };
  const devices: Side['devices'] = [];
  for (let i = 0; i < DEVICES; i++) {
    const registered = await requestJson(`${gateways[i % gateways.length]!.url}/v1/devices`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ id: `load-${i}`, kind: 'vehicle', name: `Bench ${i}` }),
    });
    devices.push({
      username: registered.credential.username,
      password: registered.credential.password,
      topic: nativeTopic(tenant.tenant.id, 'vehicle', registered.device.id, 'position'),
    });
  }
  return { name, gateways, brokerUrl, secretKey: tenant.secretKey, devices, components };
}

/** CPU ms of every component so far. */
const cpuOf = (side: Side) =>
  Object.fromEntries(Object.entries(side.components()).map(([component, pids]) => [component, pids.reduce((sum, pid) => sum + cpuMs(pid), 0)]));
const perUnit = (before: Record<string, number>, after: Record<string, number>, units: number) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, (1000 * (after[k]! - before[k]!)) / Math.max(1, units)]));

async function ingest(side: Side) {
  const processed = async () => {
    let sum = 0;
    for (const gateway of side.gateways) {
      const c = await requestJson(`${gateway.url}/v1/telemetry/counters`, { headers: { authorization: `Bearer ${side.secretKey}` } });
      sum += (c.positionsStored ?? 0) + (c.duplicates ?? 0);
    }
    return sum;
  };
  const before = await processed();
  const cpu0 = cpuOf(side);
  const result = await runPublisher(dir, { url: side.brokerUrl, devices: side.devices, messagesPerDevice: MESSAGES, qos: 1, inflight: INFLIGHT });
  const deadline = Date.now() + 120_000;
  let done = await processed();
  while (done - before < result.sent && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    done = await processed();
  }
  if (done - before < result.sent) throw new Error(`${side.name}: ${done - before} of ${result.sent} stored within 120 s`);
  const rate = (done - before) / ((performance.now() - result.startedAt) / 1000);
  return { rate, cpu: { ...perUnit(cpu0, cpuOf(side), done - before), publisher: result.cpuUsPerMessage } };
}

const REPORT = JSON.stringify({
  category: 'sanitation.bin_overflow',
  description: 'The bin at the bus stop is overflowing again',
  location: { lat: 23.1291, lon: 113.2644, accuracy: 10 },
});
async function create(side: Side) {
  const cpu0 = cpuOf(side);
  const each = Math.max(1, Math.floor(CONNECTIONS / side.gateways.length));
  const results = await Promise.all(
    side.gateways.map((gateway) =>
      autocannon({
        url: `${gateway.url}/v1/tickets`,
        method: 'POST',
        headers: { authorization: `Bearer ${side.secretKey}`, 'content-type': 'application/json' },
        body: REPORT,
        connections: each,
        duration: SECONDS,
      }),
    ),
  );
  for (const r of results) if (r.non2xx > 0 || r.errors > 0) throw new Error(`${side.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  const total = results.reduce((sum, r) => sum + r.requests.total, 0);
  return {
    rate: results.reduce((sum, r) => sum + r.requests.average, 0),
    p50: median(results.map((r) => r.latency.p50)),
    cpu: perUnit(cpu0, cpuOf(side), total),
  };
}

const stops: (() => Promise<void>)[] = [];
try {
  // One gateway: embedded broker, one redis-server with AOF, as `npm start` runs.
  const single = await startRedisServer({ dir: path.join(dir, 'single-redis'), appendOnly: true });
  stops.push(() => single.stop());
  const singleOperator = 'bench-operator';
  const mqttPort = await freePort();
  const one = await startGatewayProcess({
    name: 'single',
    env: {
      PORT: String(await freePort()),
      REDIS_URL: single.url,
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(await freePort()),
      JT808_PORT: 'false',
      LOG_LEVEL: 'warn',
      CIVICLOOP_OPERATOR_TOKEN: singleOperator,
      CIVICLOOP_MASTER_KEY: 'bench-master',
      RATE_LIMIT_PER_KEY: '0',
      RATE_LIMIT_PER_ADDRESS: '0',
      MQTT_MAX_PENDING_PER_ADDRESS: '0',
      DATA_DIR: path.join(dir, 'single'),
    },
  });
  stops.push(() => one.stop());
  const singleSide = await prepare('single', [one], `mqtt://127.0.0.1:${mqttPort}`, singleOperator, () => ({ gateway: [one.pid()], redis: [single.pid] }));

  const layout = await startLayout({
    dir: path.join(dir, 'layout'),
    replicas: REPLICAS,
    gatewayEnv: {
      RATE_LIMIT_PER_KEY: '0',
      RATE_LIMIT_PER_ADDRESS: '0',
      ...(process.env.MQTT_BROKER_SUBSCRIBERS ? { MQTT_BROKER_SUBSCRIBERS: process.env.MQTT_BROKER_SUBSCRIBERS } : {}),
    },
  });
  stops.push(() => layout.stop());
  const scaledSide = await prepare('scaled', layout.gateways, layout.broker.url, layout.operatorToken, () => ({
    gateways: layout.gateways.map((g) => g.pid()),
    mosquitto: [layout.broker.pid],
    redis: layout.cluster.nodes.map((n) => n.server.pid),
  }));

  // Warm-up of both sides' code paths.
  await ingest(singleSide);
  await ingest(scaledSide);
  const rounds: {
    single: Awaited<ReturnType<typeof ingest>>;
    scaled: Awaited<ReturnType<typeof ingest>>;
    singleCreate: Awaited<ReturnType<typeof create>>;
    scaledCreate: Awaited<ReturnType<typeof create>>;
  }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const single = await ingest(singleSide);
    const scaled = await ingest(scaledSide);
    const singleCreate = await create(singleSide);
    const scaledCreate = await create(scaledSide);
    rounds.push({ single, scaled, singleCreate, scaledCreate });
  }

  const cpuLine = (pick: (r: (typeof rounds)[number]) => Record<string, number>, unit: string) => {
    const keys = Object.keys(pick(rounds[0]!));
    return `${keys.map((k) => `${k} ${median(rounds.map((r) => pick(r)[k]!)).toFixed(1)} µs`).join(', ')} per ${unit}`;
  };
  const ingestRatios = rounds.map((r) => r.scaled.rate / r.single.rate);
  const createRatios = rounds.map((r) => r.scaledCreate.rate / r.singleCreate.rate);
  const scaledIngest = median(rounds.map((r) => r.scaled.rate));
  const singleIngest = median(rounds.map((r) => r.single.rate));
  const scaledCreate = median(rounds.map((r) => r.scaledCreate.rate));
  const singleCreate = median(rounds.map((r) => r.singleCreate.rate));
  console.log(
    `ingest QoS 1, ${DEVICES} devices x ${MESSAGES} positions, ${ROUNDS} rounds: two ` +
      `gateways on mosquitto and a Redis Cluster (${REPLICAS} replica per master) ` +
      `${scaledIngest.toFixed(0)} stored msg/s; one gateway with its embedded broker ` +
      `${singleIngest.toFixed(0)} msg/s; ratios per round ${ingestRatios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  console.log(`  CPU, scaled out: ${cpuLine((r) => r.scaled.cpu, 'message')}`);
  console.log(`  CPU, one gateway: ${cpuLine((r) => r.single.cpu, 'message')}`);
  console.log(
    `create, ${CONNECTIONS} connections for ${SECONDS} s: two gateways ${scaledCreate.toFixed(0)} ` +
      `req/s (p50 ${median(rounds.map((r) => r.scaledCreate.p50))} ms); one ` +
      `gateway ${singleCreate.toFixed(0)} req/s (p50 ${median(rounds.map((r) => r.singleCreate.p50))} ` +
      `ms); ratios per round ${createRatios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  console.log(`  CPU, scaled out: ${cpuLine((r) => r.scaledCreate.cpu, 'create')}`);
  console.log(`  CPU, one gateway: ${cpuLine((r) => r.singleCreate.cpu, 'create')}`);
  console.log('');
  console.log(`ingest scaled out: ${scaledIngest.toFixed(0)} msg/s, baseline ${singleIngest.toFixed(0)} msg/s, ratio ${median(ingestRatios).toFixed(2)}`);
  console.log(`create scaled out: ${scaledCreate.toFixed(0)} req/s, baseline ${singleCreate.toFixed(0)} req/s, ratio ${median(createRatios).toFixed(2)}`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
