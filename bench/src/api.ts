/**
 * npm run bench:api: drives the gateway over HTTP with autocannon and prints req/s and p99 for
 * create, get, list and a transition, beside a bare fastify + one HSET baseline measured in the
 * same run. Each measure alternates with its own baseline run for BENCH_ROUNDS rounds and reports
 * the median of the per-round ratios: on a noisy machine neighbouring runs compare fairly, and
 * one disturbed round does not decide the figure. Also prints the CPU time per request of the
 * server process, of redis-server (from /proc) and of autocannon itself, for each side, and a
 * floor for creates, transitions and list pages: a bare route making only the Redis reads and writes
 * the gateway's route needs (floor-server.ts, list-floor-server.ts), the most the route could reach. BENCH_SECONDS, BENCH_CONNECTIONS change load.
 * Every run starts on a quiet machine (quiet.ts): Redis rewrites its AOF between runs, never during one.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuMs, mainThreadCpuMs } from './process-cpu.js';
import { REWRITE_ONLY_WHEN_SETTLED, settle } from './quiet.js';
import { describeRedisCommands, readRedisCommands, resetRedisCommands, type RedisCommands } from './redis-commands.js';
import { BIN_REPORT, spreadReports } from './reports.js';
import { httpGatewayEnv } from './gateway-env.js';
import { startProcess } from './start-process.js';
import { freePort, startRedisServer } from '@civicloop/gateway';
import { Redis } from 'ioredis';
import { CATEGORIES } from '@civicloop/model';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const floorNodeArgs = process.env.BENCH_FLOOR_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
/** Each warm-up run's length: enough for the JIT to compile a route's path, not counted. */
const WARM_SECONDS = 2;
let runSeconds = seconds;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_REDIS_COMMANDS=1: under each measure, what redis-server ran per request (`INFO commandstats`, reset before each run). */
const countRedisCommands = process.env.BENCH_REDIS_COMMANDS === '1';
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** BENCH_ONLY=create,list runs only the measures whose names start with one of these. */
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

interface Figure {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time per request of the server process (and of its main thread alone), of redis-server and of autocannon (this process), in µs. */
  serverUs: number;
  serverMainUs: number;
  redisUs: number;
  loadUs: number;
  requests: number;
  /** With BENCH_REDIS_COMMANDS=1. */
  redis?: RedisCommands;
}

let redisPid = 0;
/** Every process of the run (servers and redis-server), which must be quiet before a measured run starts. */
const quietPids: number[] = [];
const settling = { runs: 0, rewrites: 0, waitedMs: 0 };
async function load(options: autocannon.Options, serverPid: number): Promise<Figure> {
  const { rewrote, waitedMs } = await settle(control, quietPids);
  settling.runs++;
  settling.rewrites += Number(rewrote);
  settling.waitedMs += waitedMs;
  if (countRedisCommands) await resetRedisCommands(control);
  const [server0, main0, redis0, load0] = [cpuMs(serverPid), mainThreadCpuMs(serverPid), cpuMs(redisPid), process.cpuUsage()];
  const result = await autocannon({ connections, duration: runSeconds, ...options });
  const [serverMs, mainMs, redisMs, load] = [cpuMs(serverPid) - server0, mainThreadCpuMs(serverPid) - main0, cpuMs(redisPid) - redis0, process.cpuUsage(load0)];
  const perRequest = (ms: number) => (1000 * ms) / Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    serverUs: perRequest(serverMs),
    serverMainUs: perRequest(mainMs),
    redisUs: perRequest(redisMs),
    loadUs: perRequest((load.user + load.system) / 1000),
    requests: result.requests.total,
    // Read after the CPU figures, so that the INFO calls are not counted in redis-server's.
    redis: countRedisCommands ? await readRedisCommands(control) : undefined,
  };
}

async function json(url: string, init: RequestInit & { body?: string }) {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<any>;
}

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-'));
const redis = await startRedisServer({ dir, appendOnly: true, extraArgs: REWRITE_ONLY_WHEN_SETTLED });
redisPid = redis.pid;
const control = new Redis(redis.url);
const children: ChildProcess[] = [];
try {
  const gatewayPort = await freePort();
  const baselinePort = await freePort();
  const floorPort = await freePort();
  const operatorToken = 'bench-operator-token';
  children.push(
    await startProcess(
      process.execPath,
      // BENCH_GATEWAY_NODE_ARGS: node options for the gateway alone (--cpu-prof --cpu-prof-dir=/tmp/prof to profile it).
      [...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(root, 'packages/gateway/dist/cli.js'), 'start'],
      httpGatewayEnv(redis.url, gatewayPort, operatorToken),
      'listening on',
      // BENCH_GATEWAY_STDOUT: a file the gateway's standard output goes to as well (--trace-deopt's lines, say).
      process.env.BENCH_GATEWAY_STDOUT,
    ),
  );
  children.push(
    await startProcess(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'baseline-server.ts')],
      { REDIS_URL: redis.url, PORT: String(baselinePort) },
      'ready',
    ),
  );
  children.push(
    await startProcess(
      process.execPath,
      // BENCH_FLOOR_NODE_ARGS: node options for the two floor processes (--cpu-prof --cpu-prof-dir=/tmp/floor-prof to profile them).
      [...floorNodeArgs, '--import', 'tsx', path.join(here, 'floor-server.ts')],
      { REDIS_URL: redis.url, PORT: String(floorPort) },
      'ready',
    ),
  );
  const listFloorPort = await freePort();
  children.push(
    await startProcess(
      process.execPath,
      [...floorNodeArgs, '--import', 'tsx', path.join(here, 'list-floor-server.ts')],
      { REDIS_URL: redis.url, PORT: String(listFloorPort) },
      'ready',
    ),
  );
  // A second gateway on the same Redis whose read cache holds one ticket: every ticket of every
  // page is read, parsed, kept and serialised anew, as when each ticket changed since its last page.
  // Its scheduler and statistics projector stay off, so that the first gateway alone projects the
  // other measures' events, as it did before this one was added, and its CPU figures still hold them.
  const missGatewayPort = await freePort();
  children.push(
    await startProcess(
      process.execPath,
      [path.join(root, 'packages/gateway/dist/cli.js'), 'start'],
      { ...httpGatewayEnv(redis.url, missGatewayPort, operatorToken), TICKET_CACHE_ENTRIES: '1', SCHEDULER_ENABLED: 'false' },
      'listening on',
    ),
  );
  const [gatewayPid, baselinePid, floorPid, listFloorPid, missGatewayPid] = children.map((child) => child.pid!) as [number, number, number, number, number];
  quietPids.push(redis.pid, ...children.map((child) => child.pid!));
  const gw = `http://127.0.0.1:${gatewayPort}`;
  const tenant = await json(`${gw}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}` },
    body: JSON.stringify({ code: 'BENCH', name: 'Bench' }),
  });
  const auth = { authorization: `Bearer ${tenant.secretKey}`, 'content-type': 'application/json' };
  await json(`${gw}/v1/units`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'u1', name: 'Unit 1' }) });
  await json(`${gw}/v1/units`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'u2', name: 'Unit 2' }) });

  const report = BIN_REPORT;
  const spreadReport = spreadReports();
  let reportNumber = 0;
  // The tenant's own categories with extra questions: ten added beside the built-in ones (copies
  // of the first ten, which the other creates keep using unchanged), each asking a required
  // choice, a number and a date-time, so a report carries its category as reported and three
  // answers checked against it.
  const asked = CATEGORIES.slice(0, 10).map((c, i) => ({ code: `${c.group}.asked_${i}`, category: c }));
  for (const { code, category } of asked) {
    await json(`${gw}/v1/categories/${code}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({
        group: category.group,
        name: category.name,
        defaultPriority: category.defaultPriority,
        sla: category.sla,
        skills: category.skills,
        private: category.private,
        questions: [
          {
            code: 'size',
            datatype: 'singlevaluelist',
            required: true,
            order: 1,
            description: { 'zh-CN': '多大？', en: 'How big?' },
            values: [
              { key: 'small', name: { 'zh-CN': '小', en: 'Small' } },
              { key: 'large', name: { 'zh-CN': '大', en: 'Large' } },
            ],
          },
          { code: 'count', datatype: 'number', required: false, order: 2, description: { 'zh-CN': '几处？', en: 'How many?' } },
          { code: 'seen_at', datatype: 'datetime', required: false, order: 3, description: { 'zh-CN': '何时？', en: 'When?' } },
        ],
      }),
    });
  }
  const questionReport = () => {
    const i = reportNumber++;
    return JSON.stringify({
      category: asked[i % asked.length]!.code,
      description: 'The bin at the bus stop is overflowing again',
      location: { lat: 22.9 + Math.random() * 0.5, lon: 113.1 + Math.random() * 0.5, accuracy: 10, address: 'Tianhe Rd' },
      photos: [{ ref: 'https://photos.example.org/before.jpg' }],
      answers: { size: i % 2 ? 'small' : 'large', count: 1 + (i % 5), seen_at: '2026-12-03T09:30:00+08:00' },
    });
  };
  const POOL = 1000;
  const pool: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const ticket = await json(`${gw}/v1/tickets`, { method: 'POST', headers: auth, body: report });
    await json(`${gw}/v1/tickets/${ticket.id}/dispatch`, { method: 'POST', headers: auth, body: JSON.stringify({ unitId: 'u1' }) });
    pool.push(ticket.id);
  }

  // The transition floor's own tickets (its writes must not touch the gateway's, whose versions the transition relies on).
  const floorPool: string[] = [];
  for (let i = 0; i < POOL; i++) floorPool.push((await json(`http://127.0.0.1:${floorPort}/tickets`, { method: 'POST', body: report })).id as string);
  let floorTurn = 0;
  const tenantId = (await json(`${gw}/v1/tickets/${pool[0]}`, { headers: auth })).tenantId as string;
  // The list floor must serve the page the gateway serves, or its ratio says nothing about the list's.
  const pageIds = async (url: string, headers?: Record<string, string>) =>
    JSON.stringify(((await json(url, { headers })).items as { id: string; number: string }[]).map((t) => [t.id, t.number]));
  const [gatewayPage, floorPage] = [
    await pageIds(`${gw}/v1/tickets?status=dispatched&limit=20`, auth),
    await pageIds(`http://127.0.0.1:${listFloorPort}/tickets?tenant=${tenantId}&status=dispatched`),
  ];
  if (gatewayPage !== floorPage) throw new Error(`The list floor serves another page than the gateway:\n${floorPage}\n${gatewayPage}`);

  // A measure whose requests are built one by one (new reports, a round-robin of tickets) has its
  // baseline run built one by one too: autocannon then spends the same on both sides of the ratio
  // from the two cores they share, and the ratio is what the server adds, not the load generator.
  const baselineRun = (freshBodies: boolean) =>
    load(
      freshBodies
        ? {
            url: `http://127.0.0.1:${baselinePort}/hset`,
            requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, body: spreadReport() }) }],
          }
        : { url: `http://127.0.0.1:${baselinePort}/hset`, method: 'POST', headers: { 'content-type': 'application/json' }, body: report },
      baselinePid,
    );
  // Each measure runs right after its own baseline run: on a noisy machine a ratio of two
  // neighbouring runs is steadier than a ratio against one distant baseline.
  let turn = 0;
  interface Scenario {
    name: string;
    run: () => Promise<Figure>;
    /** The process answering, if not the gateway. */
    server?: string;
    /** Its requests are built one by one, so its baseline's are too. */
    builtOneByOne?: boolean;
  }
  const scenarios: Scenario[] = [
    {
      name: 'create',
      builtOneByOne: true,
      run: () =>
        load(
          { url: `${gw}/v1/tickets`, requests: [{ method: 'POST', headers: auth, setupRequest: (request) => ({ ...request, body: spreadReport() }) }] },
          gatewayPid,
        ),
    },
    {
      name: "create with questions (the tenant's categories, three answers)",
      builtOneByOne: true,
      run: () =>
        load(
          { url: `${gw}/v1/tickets`, requests: [{ method: 'POST', headers: auth, setupRequest: (request) => ({ ...request, body: questionReport() }) }] },
          gatewayPid,
        ),
    },
    {
      name: 'create floor (only the writes a create needs)',
      server: 'floor route',
      builtOneByOne: true,
      run: () =>
        load(
          {
            url: `http://127.0.0.1:${floorPort}/tickets`,
            requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, body: spreadReport() }) }],
          },
          floorPid,
        ),
    },
    {
      name: 'create with Idempotency-Key',
      builtOneByOne: true,
      run: () =>
        load(
          {
            url: `${gw}/v1/tickets`,
            requests: [
              {
                method: 'POST',
                setupRequest: (request) => ({ ...request, body: spreadReport(), headers: { ...auth, 'idempotency-key': `bench-${turn++}-${Date.now()}` } }),
              },
            ],
          },
          gatewayPid,
        ),
    },
    { name: 'get', run: () => load({ url: `${gw}/v1/tickets/${pool[0]}`, headers: auth }, gatewayPid) },
    { name: 'list', run: () => load({ url: `${gw}/v1/tickets?status=dispatched&limit=20`, headers: auth }, gatewayPid) },
    {
      name: 'list, every ticket a read-cache miss (TICKET_CACHE_ENTRIES=1)',
      run: () => load({ url: `http://127.0.0.1:${missGatewayPort}/v1/tickets?status=dispatched&limit=20`, headers: auth }, missGatewayPid),
    },
    {
      name: 'list floor (the same page, read and written out as stored)',
      server: 'floor route',
      run: () => load({ url: `http://127.0.0.1:${listFloorPort}/tickets?tenant=${tenantId}&status=dispatched` }, listFloorPid),
    },
    {
      name: 'transition',
      builtOneByOne: true,
      run: () =>
        load(
          {
            url: gw,
            requests: [
              {
                method: 'POST',
                headers: auth,
                // Round-robin over a pool far larger than the connection count: no two in-flight
                // requests touch one ticket, so every reassign should win its compare-and-set.
                setupRequest: (request) => {
                  const i = turn++;
                  return {
                    ...request,
                    path: `/v1/tickets/${pool[i % POOL]}/reassign`,
                    body: JSON.stringify({ unitId: Math.floor(i / POOL) % 2 ? 'u1' : 'u2' }),
                  };
                },
              },
            ],
          },
          gatewayPid,
        ),
    },
    {
      name: 'transition floor (only the reads and writes a transition needs)',
      server: 'floor route',
      builtOneByOne: true,
      run: () =>
        load(
          {
            url: `http://127.0.0.1:${floorPort}`,
            requests: [
              {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                setupRequest: (request) => {
                  const i = floorTurn++;
                  return {
                    ...request,
                    path: `/tickets/${floorPool[i % POOL]}/reassign`,
                    body: JSON.stringify({ unitId: Math.floor(i / POOL) % 2 ? 'u1' : 'u2' }),
                  };
                },
              },
            ],
          },
          floorPid,
        ),
    },
  ];
  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((scenario) => only.some((prefix) => scenario.name.startsWith(prefix))));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const results: { name: string; server: string; runs: { figure: Figure; baseline: Figure }[] }[] = scenarios.map(({ name, server }) => ({
    name,
    server: server ?? 'gateway',
    runs: [],
  }));
  // Every server warmed up on every request it is measured on (baselines both ways), not counted:
  // no measured run pays for compiling its route's path, as the first round's would otherwise.
  runSeconds = WARM_SECONDS;
  for (const freshBodies of [false, true]) await baselineRun(freshBodies);
  for (const { run } of scenarios) await run();
  runSeconds = seconds;
  for (let round = 0; round < rounds; round++) {
    for (const [index, { run, builtOneByOne }] of scenarios.entries()) {
      const baseline = await baselineRun(builtOneByOne ?? false);
      results[index]!.runs.push({ baseline, figure: await run() });
    }
  }

  console.log(
    `\nload: ${connections} connections, ${seconds} s per run, ${rounds} rounds; gateway and ` +
      `baseline (bare fastify + one HSET) each in their own process on one redis-server (AOF everysec)`,
  );
  console.log(
    `before each of the ${settling.runs} runs, quiet waited for: ${(settling.waitedMs / 1000).toFixed(1)} s in all, ` +
      `${settling.rewrites} AOF rewrites made between runs (none during one)`,
  );
  const summary: string[] = [];
  for (const { name, server, runs } of results) {
    const ratios = runs.map((r) => r.figure.rps / r.baseline.rps);
    const rps = median(runs.map((r) => r.figure.rps));
    const base = median(runs.map((r) => r.baseline.rps));
    const p99 = median(runs.map((r) => r.figure.p99));
    const baseP99 = median(runs.map((r) => r.baseline.p99));
    const problems = runs.reduce((n, r) => n + r.figure.non2xx + r.figure.errors, 0);
    const cpu = (pick: (f: Figure) => number, of: 'figure' | 'baseline') => median(runs.map((r) => pick(r[of]))).toFixed(0);
    console.log(
      `${name}: ${rps.toFixed(0)} req/s, p99 ${p99} ms; baseline ${base.toFixed(0)} req/s, p99 ${baseP99} ms; ratios ` +
        `per round ${ratios.map((r) => r.toFixed(2)).join(' ')}${problems ? `; ${problems} non-2xx or errors` : ''}`,
    );
    console.log(
      `  CPU per request: ${server} ${cpu((f) => f.serverUs, 'figure')} µs (main thread ${cpu((f) => f.serverMainUs, 'figure')}), its redis-server ` +
        `${cpu((f) => f.redisUs, 'figure')} µs, autocannon ${cpu((f) => f.loadUs, 'figure')} ` +
        `µs; baseline ${cpu((f) => f.serverUs, 'baseline')} µs (main thread ${cpu((f) => f.serverMainUs, 'baseline')}), its redis-server ` +
        `${cpu((f) => f.redisUs, 'baseline')} µs, autocannon ${cpu((f) => f.loadUs, 'baseline')} µs`,
    );
    if (countRedisCommands) {
      const measured = runs.map(({ figure }) => ({ redis: figure.redis!, requests: figure.requests }));
      console.log(`  Redis per request, over ${runs.length === 1 ? 'its run' : `its ${runs.length} runs`}: ${describeRedisCommands(measured)}`);
    }
    summary.push(`${name}: ${rps.toFixed(0)} req/s, baseline ${base.toFixed(0)} req/s, ratio ${median(ratios).toFixed(2)}`);
  }
  console.log(`\n${summary.join('\n')}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  control.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
