/**
 * npm run bench:create-profile: where a create's CPU goes in the gateway beside the create floor
 * (bench/src/floor-server.ts), part by part. One redis-server (AOF everysec), the gateway and the
 * floor each in their own process under node's --cpu-prof; BENCH_REQUESTS (40,000) creates spread
 * as bench:api spreads them go to the gateway, then as many to the floor, 32 connections each
 * (BENCH_CONNECTIONS). Each process writes its profile when stopped; only the samples between the
 * first and last handled request count, so start-up and shutdown do not. Prints the sampled µs
 * per request of each part on both sides, the gateway's costliest functions of its own, and the
 * two totals. The profiler slows both processes; read the parts as shares. Only each process's
 * main thread is read: the gateway's statistics projector runs on a thread of its own
 * (STATS_THREAD), whose profile is written beside it and not counted. Environment variables of
 * the gateway pass through: STATS_THREAD=false puts the projector back on the main thread,
 * SCHEDULER_ENABLED=false leaves it out; BENCH_PROFILE_DIR keeps the profiles.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { freePort, startRedisServer } from '@civicloop/gateway';
import { httpGatewayEnv } from './gateway-env.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';
import { spreadReports } from './reports.js';
import { startProcess } from './start-process.js';

const requests = Number(process.env.BENCH_REQUESTS ?? 40_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const operatorToken = 'bench-operator-token';

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-create-profile-'));
// BENCH_PROFILE_DIR: where the two profiles are written and kept, to look into further (Chrome's DevTools open them).
const kept = process.env.BENCH_PROFILE_DIR;
const profiles = { gateway: path.join(kept ?? dir, 'gateway-profile'), floor: path.join(kept ?? dir, 'floor-profile') };
const redis = await startRedisServer({ dir: path.join(dir, 'redis'), appendOnly: true });
const children: ChildProcess[] = [];
try {
  const [gatewayPort, floorPort] = [await freePort(), await freePort()];
  const gateway = await startProcess(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profiles.gateway}`, path.join(root, 'packages/gateway/dist/cli.js'), 'start'],
    httpGatewayEnv(redis.url, gatewayPort, operatorToken),
    'listening on',
  );
  children.push(gateway);
  const floor = await startProcess(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profiles.floor}`, '--import', 'tsx', path.join(here, 'floor-server.ts')],
    { REDIS_URL: redis.url, PORT: String(floorPort) },
    'ready',
  );
  children.push(floor);
  const made = await fetch(`http://127.0.0.1:${gatewayPort}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'BENCH', name: 'Bench' }),
  });
  if (!made.ok) throw new Error(`POST /v1/tenants: ${made.status} ${await made.text()}`);
  const { secretKey } = (await made.json()) as { secretKey: string };
  const report = spreadReports();
  const sides = [
    {
      name: 'gateway',
      url: `http://127.0.0.1:${gatewayPort}/v1/tickets`,
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    },
    { name: 'floor', url: `http://127.0.0.1:${floorPort}/tickets`, headers: { 'content-type': 'application/json' } },
  ] as const;
  for (const side of sides) {
    const result = await autocannon({
      url: side.url,
      connections,
      amount: requests,
      requests: [{ method: 'POST', headers: side.headers, setupRequest: (request) => ({ ...request, body: report() }) }],
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${side.name}: ${result.non2xx} answers not 2xx, ${result.errors} errors`);
  }
  // An orderly stop writes each profile.
  for (const child of children.splice(0)) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  const summaryOf = (side: keyof typeof profiles): ProfileSummary => {
    // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main one (tsx runs its loader in another).
    const file = readdirSync(profiles[side]).find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
    if (!file) throw new Error(`the ${side} wrote no profile`);
    return summariseProfile(path.join(profiles[side], file), 'routeHandler', requests);
  };
  const [gw, fl] = [summaryOf('gateway'), summaryOf('floor')];
  const parts = [...new Set([...gw.perRequestUs.keys(), ...fl.perRequestUs.keys()])];
  console.log(`load: ${requests} creates to each side, ${connections} connections; sampled CPU per request (the profiler on)`);
  console.log(`| part | create (gateway) | create floor |`);
  console.log(`| --- | --- | --- |`);
  for (const part of parts) console.log(`| ${part} | ${(gw.perRequestUs.get(part) ?? 0).toFixed(1)} µs | ${(fl.perRequestUs.get(part) ?? 0).toFixed(1)} µs |`);
  console.log('');
  console.log("the gateway's own code, the costliest functions (self time, µs per request):");
  for (const [where, us] of gw.ownFunctionsUs.slice(0, 15)) console.log(`  ${us.toFixed(2).padStart(6)}  ${where}`);
  console.log('');
  const [gwUs, flUs] = [gw.busyUs / requests, fl.busyUs / requests];
  console.log(`create: ${gwUs.toFixed(0)} µs sampled per request, baseline (the floor) ${flUs.toFixed(0)} µs, ratio ${(gwUs / flUs).toFixed(2)}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
