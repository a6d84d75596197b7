/**
 * npm run bench:ingest-profile: where the MQTT QoS 1 path's time and memory go. The QoS 1 load
 * of bench:ingest (BENCH_DEVICES devices, BENCH_MESSAGES positions each, INFLIGHT unacknowledged)
 * for BENCH_ROUNDS rounds (3) against the gateway alone, then the same against the ingest floor
 * (ingest-floor-broker.ts) as the baseline; BENCH_TARGET=gateway or floor runs only one.
 * BENCH_NODE_ARGS are node options for both brokers alike (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof`, `--no-turbo-inlining`).
 *
 * Prints per round the stored msg/s and the broker's and redis-server's CPU per message, then one
 * line per measure beside the floor's: CPU per message; with BENCH_GC=1, the scavenges of the last
 * two thirds of the run (the broker runs with --trace-gc-nvp); with BENCH_HEAP=1, what the broker
 * allocated from start-up on, garbage included (heap-sampler.mjs), per message and by package
 * (with `--no-turbo-inlining` each allocation is charged to the function that makes it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { nativeTopic } from '@civicloop/model';
import { freePort, startRedisServer, tenantKeys, type RunningRedis } from '@civicloop/gateway';
import { cpuMs } from './process-cpu.js';
import { runPublisher } from './run-publisher.js';
import { brokerNodeArgs, ingestLoad, loadedGatewayEnv } from './ingest-settings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { devices: DEVICES, messages: MESSAGES, inflight: INFLIGHT } = ingestLoad;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HEAP = process.env.BENCH_HEAP === '1';
const GC = process.env.BENCH_GC === '1';
const NODE_ARGS = [...brokerNodeArgs(), ...(GC ? ['--trace-gc-nvp'] : [])];
const TARGETS = (['gateway', 'floor'] as const).filter((t) => !process.env.BENCH_TARGET || process.env.BENCH_TARGET === t);

interface Profile {
  cpuUs: number;
  gc?: { count: number; pauseMs: number; pausePerMessageUs: number };
  heap?: { total: number; perMessage: number; byPackage: [string, number][] };
}

type HeapNode = { callFrame: { url: string; functionName: string }; selfSize: number; children: HeapNode[] };

/** Bytes allocated by package (or node: module), from a sampled heap profile. */
function allocationsByPackage(file: string): Map<string, number> {
  const byPackage = new Map<string, number>();
  const walk = (node: HeapNode) => {
    const { url, functionName } = node.callFrame;
    const where = url.includes('node_modules/')
      ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
      : url
        ? url.replace(/.*\/(packages\/[^/]+|bench)\/.*/, '$1')
        : functionName || '(native)';
    byPackage.set(where, (byPackage.get(where) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk((JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head);
  return byPackage;
}

/** The broker's scavenges (--trace-gc-nvp lines) after the first `skip`. */
function scavenges(output: string, skip: number): Record<string, string>[] {
  return output
    .split('\n')
    .filter((line) => line.includes('gc=s'))
    .slice(skip)
    .map((line) => Object.fromEntries(line.split(/\s+/).map((pair) => pair.split('='))) as Record<string, string>);
}

// Long: it starts one broker, drives it round by round and reads what it left behind, in one scope that stops it whatever happens.
async function profile(target: 'gateway' | 'floor', redisServer: RunningRedis, dir: string): Promise<Profile> {
  const heapFile = path.join(dir, `${target}.heapprofile`);
  const [port, otherPort, wsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  let output = '';
  const args =
    target === 'gateway' ? [path.join(root, 'packages/gateway/dist/cli.js'), 'start'] : ['--import', 'tsx', path.join(here, 'ingest-floor-broker.ts')];
  const brokerEnv: Record<string, string> =
    target === 'gateway'
      ? loadedGatewayEnv({ redisUrl: redisServer.url, http: otherPort, mqtt: port, ws: wsPort, jt808: 'false' })
      : { REDIS_URL: redisServer.url, PORT: String(port), STATS_PORT: String(otherPort) };
  const broker: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ...(HEAP ? ['--import', path.join(here, 'heap-sampler.mjs')] : []), ...args], {
    env: { ...process.env, ...brokerEnv, HEAP_PROFILE_OUT: heapFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => broker.once('exit', resolve));
  const out: Profile = { cpuUs: 0 };
  let messages = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      broker.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(target === 'gateway' ? 'Ctrl-C' : 'ready')) resolve();
      });
      void exited.then(() => reject(new Error(`the ${target} exited before it was ready`)));
    });
    let devices: { username: string; password: string; topic: string }[];
    let forgetFixes = async () => {};
    if (target === 'gateway') {
      const json = async (url: string, init: RequestInit) => {
        const response = await fetch(`http://127.0.0.1:${otherPort}${url}`, {
          ...init,
          headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
        });
        if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
        return response.json() as Promise<any>;
      };
      const tenant = await json('/v1/tenants', {
        method: 'POST',
        headers: { authorization: 'Bearer bench-op' },
        body: JSON.stringify({ code: 'PROFILE', name: 'Profile' }),
      });
      const tenantId: string = tenant.tenant.id;
      devices = [];
      for (let i = 0; i < DEVICES; i++) {
        const registered = await json('/v1/devices', {
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.secretKey}` },
          body: JSON.stringify({ id: `load-${i}`, kind: 'vehicle', name: `Bench ${i}` }),
        });
        devices.push({ ...registered.credential, topic: nativeTopic(tenantId, 'vehicle', registered.device.id, 'position') });
      }
      // Every round sends the same fix times: forget them, so each round stores rather than skips.
      forgetFixes = async () => {
        const redis = new Redis(redisServer.url);
        for (let i = 0; i < DEVICES; i++) await redis.del(tenantKeys(tenantId).seenFixes(`load-${i}`));
        redis.disconnect();
      };
    } else {
      devices = Array.from({ length: DEVICES }, (_, i) => ({ username: `load-${i}`, password: 'x', topic: `civicloop/t/vehicles/load-${i}/position` }));
    }
    const gcAtRound: number[] = [];
    let cpuAfterFirstThird = 0;
    let messagesAfterFirstThird = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await forgetFixes();
      gcAtRound.push(scavenges(output, 0).length);
      const [cpu0, redis0] = [cpuMs(broker.pid!), cpuMs(redisServer.pid)];
      const result = await runPublisher(dir, { url: `mqtt://127.0.0.1:${port}`, devices, messagesPerDevice: MESSAGES, qos: 1, inflight: INFLIGHT });
      const seconds = (performance.now() - result.startedAt) / 1000;
      const cpu = cpuMs(broker.pid!) - cpu0;
      messages += result.sent;
      if (round >= Math.floor(ROUNDS / 3)) {
        cpuAfterFirstThird += cpu;
        messagesAfterFirstThird += result.sent;
      }
      const us = (ms: number) => ((1000 * ms) / result.sent).toFixed(1);
      console.log(
        `${target} round ${round + 1}: ${(result.sent / seconds).toFixed(0)} msg/s, ${us(cpu)} µs of its CPU per message, ` +
          `redis-server ${us(cpuMs(redisServer.pid) - redis0)} µs`,
      );
    }
    out.cpuUs = (1000 * cpuAfterFirstThird) / messagesAfterFirstThird;
    if (GC) {
      const late = scavenges(output, gcAtRound[Math.floor(ROUNDS / 3)] ?? 0);
      const pauseMs = late.reduce((total, s) => total + Number(s.pause ?? 0), 0);
      out.gc = { count: late.length, pauseMs, pausePerMessageUs: (1000 * pauseMs) / messagesAfterFirstThird };
      console.log(`${target} scavenges in the last two thirds: ${late.length}, ${(pauseMs / Math.max(1, late.length)).toFixed(2)} ms each`);
    }
  } finally {
    // Waited for: the heap sampler and --cpu-prof write their profiles as the broker exits.
    broker.kill('SIGTERM');
    await exited;
  }
  if (HEAP) {
    const byPackage = allocationsByPackage(heapFile);
    const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
    out.heap = { total, perMessage: total / messages, byPackage: [...byPackage].sort((a, b) => b[1] - a[1]) };
    console.log(`${target} allocated ${(total / 1e6).toFixed(0)} MB from start-up, by package:`);
    for (const [where, bytes] of out.heap.byPackage.slice(0, 10))
      console.log(`  ${where}: ${(bytes / 1e6).toFixed(0)} MB, ${(bytes / messages / 1024).toFixed(2)} KB per message`);
  }
  return out;
}

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-ingest-profile-'));
const redisServer = await startRedisServer({ dir, appendOnly: true });
try {
  const results = new Map<string, Profile>();
  for (const target of TARGETS) results.set(target, await profile(target, redisServer, dir));
  const [gateway, floor] = [results.get('gateway'), results.get('floor')];
  if (gateway && floor) {
    const line = (measure: string, value: number, baseline: number, unit: string, digits = 1) =>
      console.log(`${measure}: ${value.toFixed(digits)} ${unit}, baseline floor ${baseline.toFixed(digits)} ${unit}, ratio ${(value / baseline).toFixed(2)}`);
    line('CPU per message', gateway.cpuUs, floor.cpuUs, 'µs');
    if (gateway.gc && floor.gc) line('scavenge pause per message', gateway.gc.pausePerMessageUs, floor.gc.pausePerMessageUs, 'µs', 2);
    if (gateway.heap && floor.heap) line('allocated per message', gateway.heap.perMessage / 1024, floor.heap.perMessage / 1024, 'KB');
  }
} finally {
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
