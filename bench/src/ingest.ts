/**
 * npm run bench:ingest: telemetry ingestion against the same load on a bare aedes broker,
 * measured in the same run.
 *
 *   1. K devices (BENCH_DEVICES, 50) in a separate process publish M positions each
 *      (BENCH_MESSAGES, 1000) at full speed, QoS 1 (INFLIGHT 20 unacknowledged per device) and
 *      QoS 0: stored msg/s and publish-to-stored latency (PUBACK means stored), beside the bare
 *      broker's msg/s and publish-to-PUBACK latency. The clock starts when the publisher has
 *      connected its devices and begins to publish (its start-up is not load), and stops when
 *      the target has processed the last message. Bare and gateway runs alternate for
 *      BENCH_ROUNDS (5) rounds; the figure is the median of the per-round ratios. Each round also
 *      runs the floor (ingest-floor-broker.ts): aedes with only the writes ingestion needs, the
 *      most a gateway making those writes could reach, and (QoS 1 rounds) the same load from K
 *      JT/T 808 terminals over TCP (jt808-publisher.ts): 0x0200 reports, up to INFLIGHT
 *      unanswered, each answered (0x8001) once stored.
 *   2. Nearest-worker dispatch with 100,000 live, checked-in workers (BENCH_WORKERS): p50/p99 of
 *      findNearestWorker, beside a bare GEOSEARCH ... COUNT 1.
 *      Also prints the CPU time per message of the gateway, redis-server and the bare broker.
 *   3. Memory with 10,000 connected devices (BENCH_CONNECTIONS): gateway RSS growth beside the
 *      bare broker's.
 *   4. Memory before authentication: BENCH_PREAUTH_CONNECTIONS (20) connections announcing 256 MB
 *      CONNECT packets and streaming bytes for BENCH_PREAUTH_SECONDS (4): the gateway's peak RSS
 *      growth beside its idle RSS (and a bare aedes, which has no such limit, for comparison).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { cpuMs } from './process-cpu.js';
import { brokerNodeArgs, ingestLoad, loadedGatewayEnv } from './ingest-settings.js';
import { jobFile, runPublisher, type PublisherResult } from './run-publisher.js';
import { nativeTopic } from '@civicloop/model';
import { findNearestWorker, freePort, startRedisServer, tenantKeys } from '@civicloop/gateway';
import { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { requestJson } from './json-request.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const { devices: DEVICES, messages: MESSAGES, inflight: INFLIGHT } = ingestLoad;
const WORKERS = env('BENCH_WORKERS', 100_000);
const CONNECTIONS = env('BENCH_CONNECTIONS', 10_000);
const ROUNDS = env('BENCH_ROUNDS', 5);
/** Node options for the three brokers measured (the gateway, bare aedes, the floor) alike, e.g. a V8 heap setting. */
const NODE_ARGS = brokerNodeArgs();

function start(args: string[], extraEnv: Record<string, string>, ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(ready)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

const publish = (job: object, script?: string) => runPublisher<PublisherResult & { refused?: number }>(dir, job, script);

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-ingest-'));
const redisServer = await startRedisServer({ dir, appendOnly: true });
const children: ChildProcess[] = [];
const summary: string[] = [];
try {
  const [httpPort, mqttPort, wsPort, barePort, bareStatsPort, jt808Port] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const gatewayProcess = await start(
    [
      ...NODE_ARGS,
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      path.join(root, 'packages/gateway/dist/cli.js'),
      'start',
    ],
    loadedGatewayEnv({ redisUrl: redisServer.url, http: httpPort, mqtt: mqttPort, ws: wsPort, jt808: jt808Port }),
    'Ctrl-C',
  );
  children.push(gatewayProcess);
  const bareProcess = await start(
    [...NODE_ARGS, '--import', 'tsx', path.join(here, 'bare-broker.ts')],
    { PORT: String(barePort), STATS_PORT: String(bareStatsPort) },
    'ready',
  );
  children.push(bareProcess);
  const [floorPort, floorStatsPort] = await Promise.all([freePort(), freePort()]);
  const floorProcess = await start(
    [...NODE_ARGS, '--import', 'tsx', path.join(here, 'ingest-floor-broker.ts')],
    { REDIS_URL: redisServer.url, PORT: String(floorPort), STATS_PORT: String(floorStatsPort) },
    'ready',
  );
  children.push(floorProcess);
  const gw = `http://127.0.0.1:${httpPort}`;
  const tenant = await requestJson(`${gw}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-op' },
    body: JSON.stringify({ code: 'INGEST', name: 'Ingest bench' }),
  });
  const auth = { authorization: `Bearer ${tenant.secretKey}` };
  const tenantId: string = tenant.tenant.id;

  const registerMany = async (count: number, prefix: string) => {
    const out: { username: string; password: string; topic: string }[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) =>
          requestJson(`${gw}/v1/devices`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ id: `${prefix}${i + j}`, kind: 'vehicle', name: `Bench ${i + j}` }),
          }),
        ),
      );
      out.push(
        ...batch.map((r) => ({
          username: r.credential.username,
          password: r.credential.password,
          topic: nativeTopic(tenantId, 'vehicle', r.device.id, 'position'),
        })),
      );
    }
    return out;
  };

  // ---- 1. throughput and latency ----
  const devices = await registerMany(DEVICES, 'load-');
  // As many JT/T 808 terminals, registered over HTTP and then by their own 0x0100 (which gives the code).
  const terminals: { deviceId: string; terminalId: string; code: string }[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const terminalId = String(13900000000 + i).padStart(12, '0');
    const registered = await requestJson(`${gw}/v1/devices`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ id: `jt-${i}`, kind: 'vehicle', name: `Bench truck ${i}`, protocol: 'jt808', terminalId }),
    });
    const terminal = new Jt808Terminal(terminalId);
    await terminal.connect(jt808Port);
    const { result, code } = await terminal.register();
    terminal.close();
    if (result !== 0 || !code) throw new Error(`terminal ${terminalId} registration answered ${result}`);
    terminals.push({ deviceId: registered.device.id, terminalId, code });
  }
  const counters = () => requestJson(`${gw}/v1/telemetry/counters`, { headers: auth });
  /** Messages the gateway has processed, whichever way they came: stored or recognised as resent. */
  const processedByGateway = async () => {
    const { positionsStored, duplicates } = await counters();
    return (positionsStored as number) + (duplicates as number);
  };
  const countAt = (statsPort: number) => async () => (await requestJson(`http://127.0.0.1:${statsPort}/`)).published as number;
  const total = DEVICES * MESSAGES;

  /** Runs one load and waits until the target has processed all of it; msg/s counts to that moment. */
  async function run(target: 'gateway' | 'bare' | 'floor' | 'jt808', qos: 0 | 1) {
    const pid = { gateway: gatewayProcess, bare: bareProcess, floor: floorProcess, jt808: gatewayProcess }[target].pid!;
    const [cpu0, redisCpu0] = [cpuMs(pid), cpuMs(redisServer.pid)];
    const count = {
      gateway: processedByGateway,
      jt808: processedByGateway,
      bare: countAt(bareStatsPort),
      floor: countAt(floorStatsPort),
    }[target];
    const before = await count();
    const result =
      target === 'jt808'
        ? await publish(
            {
              port: jt808Port,
              terminals,
              messagesPerTerminal: MESSAGES,
              inflight: INFLIGHT,
              firstFix: Math.floor(Date.now() / 1000) * 1000 - MESSAGES * 1000 - 120_000,
            },
            'jt808-publisher.ts',
          )
        : await publish({
            url: `mqtt://127.0.0.1:${{ gateway: mqttPort, bare: barePort, floor: floorPort }[target]}`,
            devices,
            messagesPerDevice: MESSAGES,
            qos,
            inflight: INFLIGHT,
          });
    if ('refused' in result && result.refused) throw new Error(`${result.refused} JT/T 808 reports were not answered "stored"`);
    let done = await count();
    const deadline = Date.now() + 60_000;
    while (done - before < result.sent && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      done = await count();
    }
    const seconds = (performance.now() - result.startedAt) / 1000;
    const perMessage = (ms: number) => (1000 * ms) / Math.max(1, done - before);
    return {
      rate: (done - before) / seconds,
      processed: done - before,
      result,
      brokerUs: perMessage(cpuMs(pid) - cpu0),
      redisUs: perMessage(cpuMs(redisServer.pid) - redisCpu0),
    };
  }

  const clearDedup = async () => {
    // Every run repeats the same fix times: forget them, so each run stores rather than skips.
    const redis = new Redis(redisServer.url);
    for (const id of [...devices.map((d) => d.username), ...terminals.map((t) => t.deviceId)]) await redis.del(tenantKeys(tenantId).seenFixes(id));
    redis.disconnect();
  };
  await run('bare', 1); // warm-up of both brokers' code paths
  await run('gateway', 1);
  await run('floor', 1);
  await run('jt808', 1);
  await clearDedup();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const qos of [1, 0] as const) {
    type Run = Awaited<ReturnType<typeof run>>;
    const rounds: { bare: Run; gateway: Run; floor: Run; jt808?: Run }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bare = await run('bare', qos);
      const gateway = await run('gateway', qos);
      const floor = await run('floor', qos);
      // JT/T 808 has no fire-and-forget mode: every report is answered, as MQTT QoS 1.
      const jt808 = qos === 1 ? await run('jt808', qos) : undefined;
      await clearDedup();
      rounds.push({ bare, gateway, floor, ...(jt808 ? { jt808 } : {}) });
    }
    const ratios = rounds.map((r) => r.gateway.rate / r.bare.rate);
    const rate = median(rounds.map((r) => r.gateway.rate));
    const bareRate = median(rounds.map((r) => r.bare.rate));
    const label = `ingest QoS ${qos}`;
    const lat =
      qos === 1
        ? `, publish-to-stored p50 ${median(rounds.map((r) => r.gateway.result.p50)).toFixed(1)} ` +
          `ms p99 ${median(rounds.map((r) => r.gateway.result.p99)).toFixed(1)} ms ` +
          `(bare publish-to-PUBACK p50 ${median(rounds.map((r) => r.bare.result.p50)).toFixed(1)} ` +
          `ms p99 ${median(rounds.map((r) => r.bare.result.p99)).toFixed(1)} ms)`
        : '';
    console.log(
      `${label}: ${rate.toFixed(0)} stored msg/s of ${total} per run${lat}; bare aedes ` +
        `${bareRate.toFixed(0)} msg/s; ratios per round ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
    );
    const cpu = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick)).toFixed(1);
    console.log(
      `  CPU per message: gateway ${cpu((r) => r.gateway.brokerUs)} µs, redis-server ` +
        `${cpu((r) => r.gateway.redisUs)} µs; bare aedes ${cpu((r) => r.bare.brokerUs)} ` +
        `µs; the publisher ${cpu((r) => r.gateway.result.cpuUsPerMessage)} µs against ` +
        `the gateway, ${cpu((r) => r.bare.result.cpuUsPerMessage)} µs against bare aedes`,
    );
    summary.push(`${label}: ${rate.toFixed(0)} msg/s, baseline ${bareRate.toFixed(0)} msg/s, ratio ${median(ratios).toFixed(2)}`);
    const floorRatios = rounds.map((r) => r.floor.rate / r.bare.rate);
    const floorRate = median(rounds.map((r) => r.floor.rate));
    const floorLabel = `ingest floor QoS ${qos} (only the writes ingestion needs)`;
    console.log(`${floorLabel}: ${floorRate.toFixed(0)} stored msg/s; ratios per round ${floorRatios.map((r) => r.toFixed(2)).join(' ')}`);
    console.log(
      `  CPU per message: floor broker ${cpu((r) => r.floor.brokerUs)} µs, redis-server ` +
        `${cpu((r) => r.floor.redisUs)} µs; the publisher ${cpu((r) => r.floor.result.cpuUsPerMessage)} µs`,
    );
    summary.push(`${floorLabel}: ${floorRate.toFixed(0)} msg/s, baseline ${bareRate.toFixed(0)} msg/s, ratio ${median(floorRatios).toFixed(2)}`);
    // How close the gateway comes to the floor, round by round (both against the same bare broker).
    const toFloor = rounds.map((r) => r.gateway.rate / r.floor.rate);
    summary.push(`ingest QoS ${qos} against its floor: ${rate.toFixed(0)} msg/s, baseline ${floorRate.toFixed(0)} msg/s, ratio ${median(toFloor).toFixed(2)}`);
    if (qos === 1) {
      const jt = rounds.map((r) => r.jt808!);
      const jtRate = median(jt.map((r) => r.rate));
      const jtToMqtt = rounds.map((r) => r.jt808!.rate / r.gateway.rate);
      const jtToBare = rounds.map((r) => r.jt808!.rate / r.bare.rate);
      console.log(
        `ingest JT/T 808 (${DEVICES} terminals, ${INFLIGHT} unanswered each): ${jtRate.toFixed(0)} stored msg/s ` +
          `of ${total} per run, report-to-answer p50 ${median(jt.map((r) => r.result.p50)).toFixed(1)} ms p99 ` +
          `${median(jt.map((r) => r.result.p99)).toFixed(1)} ms; against MQTT QoS 1 ratios per round ` +
          `${jtToMqtt.map((r) => r.toFixed(2)).join(' ')}; against bare aedes ${jtToBare.map((r) => r.toFixed(2)).join(' ')}`,
      );
      console.log(
        `  CPU per message: gateway ${cpu((r) => r.jt808!.brokerUs)} µs, redis-server ` +
          `${cpu((r) => r.jt808!.redisUs)} µs; the terminals ${cpu((r) => r.jt808!.result.cpuUsPerMessage)} µs`,
      );
      summary.push(`ingest JT/T 808: ${jtRate.toFixed(0)} msg/s, baseline MQTT QoS 1 ${rate.toFixed(0)} msg/s, ratio ${median(jtToMqtt).toFixed(2)}`);
      summary.push(
        `ingest JT/T 808 against bare aedes: ${jtRate.toFixed(0)} msg/s, baseline ${bareRate.toFixed(0)} msg/s, ratio ${median(jtToBare).toFixed(2)}`,
      );
    }
  }

  // ---- 2. nearest worker among 100,000 ----
  {
    const redis = new Redis(redisServer.url);
    const keys = tenantKeys(tenantId);
    const now = new Date().toISOString();
    for (let i = 0; i < WORKERS; i += 5000) {
      const pipeline = redis.pipeline();
      for (let j = i; j < Math.min(WORKERS, i + 5000); j++) {
        const id = `w${j}`;
        const skills = j % 2 === 0 ? ['cleaning'] : ['road'];
        pipeline.hset(
          keys.devices,
          id,
          JSON.stringify({
            id,
            kind: 'badge',
            name: id,
            staffId: `s${j}`,
            unitId: 'u',
            skills,
            disabled: false,
            credentialIssuedAt: now,
            createdAt: now,
            updatedAt: now,
          }),
        );
        pipeline.hset(keys.onDuty, id, String(Date.now()));
        pipeline.geoadd(keys.live('badge'), 113.3 + Math.random() * 0.06, 23.09 + Math.random() * 0.07, id);
      }
      await pipeline.exec();
    }
    const points = Array.from({ length: 2000 }, () => ({ lat: 23.1 + Math.random() * 0.05, lon: 113.31 + Math.random() * 0.04 }));
    const bare: number[] = [];
    const nearest: number[] = [];
    for (const [i, p] of points.entries()) {
      const t0 = performance.now();
      await redis.call('GEOSEARCH', keys.live('badge'), 'FROMLONLAT', p.lon, p.lat, 'BYRADIUS', 3000, 'm', 'ASC', 'COUNT', 1);
      const t1 = performance.now();
      const found = await findNearestWorker(redis, tenantId, { ...p, radiusMeters: 3000, skills: ['cleaning'] });
      const t2 = performance.now();
      if (!found) throw new Error('no worker found in the bench layout');
      if (i >= 200) {
        bare.push(t1 - t0);
        nearest.push(t2 - t1);
      }
    }
    console.log(
      `nearest worker among ${WORKERS} live workers: p50 ${pct(nearest, 0.5).toFixed(2)} ms p99 ${pct(nearest, 0.99).toFixed(2)} ` +
        `ms (target p99 < 5 ms); bare GEOSEARCH COUNT 1 p50 ${pct(bare, 0.5).toFixed(2)} ms p99 ${pct(bare, 0.99).toFixed(2)} ms`,
    );
    summary.push(
      `nearest worker p99: ${pct(nearest, 0.99).toFixed(2)} ms, baseline ` +
        `${pct(bare, 0.99).toFixed(2)} ms, ratio ${(pct(nearest, 0.99) / pct(bare, 0.99)).toFixed(2)}`,
    );
    redis.disconnect();
  }

  /** Ends the processes running so far and starts a fresh gateway and a fresh bare broker. */
  async function freshPair(extraEnv: Record<string, string>) {
    for (const child of children.splice(0)) child.kill('SIGTERM');
    const [http, mqttPort, ws, barePort, bareStats] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const gateway = await start(
      [...NODE_ARGS, path.join(root, 'packages/gateway/dist/cli.js'), 'start'],
      {
        REDIS_URL: redisServer.url,
        PORT: String(http),
        MQTT_PORT: String(mqttPort),
        MQTT_WS_PORT: String(ws),
        JT808_PORT: 'false',
        LOG_LEVEL: 'warn',
        CIVICLOOP_MASTER_KEY: 'bench-master',
        ...extraEnv,
      },
      'Ctrl-C',
    );
    const bare = await start(
      [...NODE_ARGS, '--import', 'tsx', path.join(here, 'bare-broker.ts')],
      { PORT: String(barePort), STATS_PORT: String(bareStats) },
      'ready',
    );
    children.push(gateway, bare);
    return { gateway, mqttPort, bare, barePort };
  }

  // ---- 3. memory with 10,000 connected devices ----
  {
    const many = await registerMany(CONNECTIONS, 'conn-');
    // Fresh processes: the ones above carry the heap of the throughput runs.
    const { gateway: freshGateway, mqttPort: freshMqtt, bare: freshBareBroker, barePort: freshBare } = await freshPair({ MQTT_MAX_PENDING_PER_ADDRESS: '0' });
    const measure = async (pid: number, url: string) => {
      const before = rssOf(pid);
      const holder = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'publisher.ts')], {
        env: { ...process.env, JOB_FILE: jobFile(dir, { url, devices: many, messagesPerDevice: 0, qos: 1, inflight: 1, holdOnly: true }) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('connected') && resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 1000));
      const after = rssOf(pid);
      holder.stdin!.end();
      await new Promise((r) => holder.once('exit', r));
      return { before, after };
    };
    const gatewayMemory = await measure(freshGateway.pid!, `mqtt://127.0.0.1:${freshMqtt}`);
    const bareMemory = await measure(freshBareBroker.pid!, `mqtt://127.0.0.1:${freshBare}`);
    const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
    const growth = gatewayMemory.after - gatewayMemory.before;
    const bareGrowth = bareMemory.after - bareMemory.before;
    console.log(
      `memory with ${CONNECTIONS} connected devices: gateway RSS ${mb(gatewayMemory.after)} MB (+${mb(growth)} MB, ` +
        `${(growth / CONNECTIONS / 1024).toFixed(1)} KB per device); bare aedes RSS ${mb(bareMemory.after)} MB (+${mb(bareGrowth)} MB)`,
    );
    summary.push(
      `memory per connected device: ${(growth / CONNECTIONS / 1024).toFixed(1)} KB, baseline ` +
        `${(bareGrowth / CONNECTIONS / 1024).toFixed(1)} KB, ratio ${(growth / bareGrowth).toFixed(2)}`,
    );

    // ---- 4. memory before authentication: connections announcing huge packets ----
    const attackers = env('BENCH_PREAUTH_CONNECTIONS', 20);
    const seconds = env('BENCH_PREAUTH_SECONDS', 4);
    const flood = async (pid: number, port: number) => {
      const idle = rssOf(pid);
      let peak = idle;
      let connections = 0;
      const until = Date.now() + seconds * 1000;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
      // Each attacker announces a 256 MB CONNECT and streams bytes as fast as the socket takes
      // them, and connects again whenever it is closed.
      const attacker = async () => {
        while (Date.now() < until) {
          connections++;
          await new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            const chunk = Buffer.alloc(64 * 1024, 0x41);
            const pump = () => {
              while (Date.now() < until && socket.writable && socket.write(chunk));
              if (Date.now() >= until) socket.destroy();
            };
            socket.once('connect', () => {
              socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
              pump();
            });
            socket.on('drain', pump);
            socket.on('error', () => undefined);
            socket.once('close', () => resolve());
            setTimeout(() => socket.destroy(), Math.max(0, until - Date.now()));
          });
        }
      };
      await Promise.all(Array.from({ length: attackers }, attacker));
      clearInterval(sampler);
      await new Promise((r) => setTimeout(r, 500));
      return { idle, peak, connections, after: rssOf(pid) };
    };
    // On processes of their own again: an idle RSS not inflated by the 10,000 devices above.
    const { gateway: floodGateway, mqttPort: floodMqtt, bare: floodBareBroker, barePort: floodBare } = await freshPair({});
    const gatewayFlood = await flood(floodGateway.pid!, floodMqtt);
    const bareFlood = await flood(floodBareBroker.pid!, floodBare);
    const growthMb = (gatewayFlood.peak - gatewayFlood.idle) / 1048576;
    console.log(
      `memory before authentication: ${attackers} connections announcing 256 MB packets for ${seconds} s ` +
        `(${gatewayFlood.connections} connections made): gateway RSS idle ${mb(gatewayFlood.idle)} MB, peak ` +
        `${mb(gatewayFlood.peak)} MB (+${growthMb.toFixed(1)} MB); bare aedes (no limit) idle ${mb(bareFlood.idle)} ` +
        `MB, peak ${mb(bareFlood.peak)} MB (+${((bareFlood.peak - bareFlood.idle) / 1048576).toFixed(0)} MB)`,
    );
    summary.push(
      `pre-auth RSS growth, ${attackers} connections announcing 256 MB: ${growthMb.toFixed(1)} MB, baseline ` +
        `idle RSS ${mb(gatewayFlood.idle)} MB, ratio ${(growthMb / (gatewayFlood.idle / 1048576)).toFixed(2)}`,
    );
  }
  console.log(`\n${summary.join('\n')}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
