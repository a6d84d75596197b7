/**
 * npm run bench:compare: the gateway's CPU time per request, this build against another one,
 * for changes too small for bench:api to see. bench:api's ratios move by 10-15 % between
 * neighbouring runs on a shared machine; a change worth 5-10 % of a request's CPU is lost in
 * that. Here each build runs as its own gateway on its own redis-server with the same data, and
 * the rounds alternate (this build, the other, then the other first, ...), each a fixed number
 * of requests at full load, so both sides see the same moments of the machine. A first round on
 * each side warms it up and is not counted (the JIT, Redis' memory): figures fall by 10-20 % over
 * the first rounds. The figure is the median of the per-round ratios, which a drift of the
 * machine over the run moves less than it moves either side's own figures.
 *
 * BENCH_BEFORE: the other build's gateway dist directory (a copy of packages/gateway/dist made
 * before the change, e.g. packages/gateway/dist-before; inside the package, so that its imports
 * resolve). BENCH_ONLY (transition,create,get,list; also idempotent-create, a create with an
 * Idempotency-Key as the SDK and the widget send it), BENCH_ROUNDS (8), BENCH_REQUESTS (15000 per
 * round) and BENCH_CONNECTIONS (32) change the load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, startRedisServer } from '@civicloop/gateway';
import { cpuMs } from './process-cpu.js';
import { BIN_REPORT, spreadReports } from './reports.js';
import { httpGatewayEnv } from './gateway-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const before = process.env.BENCH_BEFORE ? path.resolve(root, process.env.BENCH_BEFORE) : undefined;
if (!before || !existsSync(path.join(before, 'cli.js'))) {
  console.error(
    'BENCH_BEFORE must name a gateway dist directory built before the change (with cli.js), inside packages/gateway: ' +
      'cp -r packages/gateway/dist packages/gateway/dist-before, change the code, then BENCH_BEFORE=packages/gateway/dist-before npm run bench:compare',
  );
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const requestsPerRound = Number(process.env.BENCH_REQUESTS ?? 15_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const only = (process.env.BENCH_ONLY ?? 'transition,create,get,list').split(',').map((s) => s.trim());
const POOL = 1000;

async function json(url: string, init: RequestInit & { body?: string } = {}) {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<any>;
}

interface Side {
  name: 'this build' | 'before';
  gateway: ChildProcess;
  redis: Awaited<ReturnType<typeof startRedisServer>>;
  dir: string;
  url: string;
  auth: Record<string, string>;
  pool: string[];
  turn: number;
  reports: () => string;
}

/** A gateway of one build on a redis-server of its own, with a tenant, two units and POOL dispatched tickets. */
async function startSide(name: Side['name'], dist: string): Promise<Side> {
  const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-compare-'));
  const redis = await startRedisServer({ dir, appendOnly: true });
  const port = await freePort();
  const gateway = spawn(process.execPath, [path.join(dist, 'cli.js'), 'start'], {
    env: { ...process.env, ...httpGatewayEnv(redis.url, port, 'bench-operator-token') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    gateway.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) resolve();
    });
    gateway.on('exit', (code) => reject(new Error(`the ${name} gateway exited with ${code}: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const tenant = await json(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-operator-token' },
    body: JSON.stringify({ code: 'BENCH', name: 'Bench' }),
  });
  const auth = { authorization: `Bearer ${tenant.secretKey}`, 'content-type': 'application/json' };
  for (const id of ['u1', 'u2']) await json(`${url}/v1/units`, { method: 'POST', headers: auth, body: JSON.stringify({ id, name: id }) });
  const pool: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const ticket = await json(`${url}/v1/tickets`, { method: 'POST', headers: auth, body: BIN_REPORT });
    await json(`${url}/v1/tickets/${ticket.id}/dispatch`, { method: 'POST', headers: auth, body: JSON.stringify({ unitId: 'u1' }) });
    pool.push(ticket.id);
  }
  return { name, gateway, redis, dir, url, auth, pool, turn: 0, reports: spreadReports() };
}

/** The request of each measure, built one by one on both sides alike. */
function requestOf(measure: string, side: Side): autocannon.Request {
  if (measure === 'get') return { method: 'GET', path: `/v1/tickets/${side.pool[0]}`, headers: side.auth };
  if (measure === 'list') return { method: 'GET', path: '/v1/tickets?status=dispatched&limit=20', headers: side.auth };
  return {
    method: 'POST',
    headers: side.auth,
    setupRequest: (request) => {
      if (measure === 'create') return { ...request, path: '/v1/tickets', body: side.reports() };
      if (measure === 'idempotent-create') {
        const headers = { ...side.auth, 'idempotency-key': `compare-${side.name.replace(' ', '-')}-${side.turn++}-${Date.now()}` };
        return { ...request, path: '/v1/tickets', headers, body: side.reports() };
      }
      // Round-robin over a pool far larger than the connection count: every reassign wins its compare-and-set.
      const i = side.turn++;
      return { ...request, path: `/v1/tickets/${side.pool[i % POOL]}/reassign`, body: JSON.stringify({ unitId: Math.floor(i / POOL) % 2 ? 'u1' : 'u2' }) };
    },
  };
}

/** One round on one side: CPU per request of its gateway, including what its background loops do for that load right after. */
async function round(measure: string, side: Side): Promise<number> {
  const pid = side.gateway.pid!;
  const cpu0 = cpuMs(pid);
  const result = await autocannon({ url: side.url, connections, amount: requestsPerRound, requests: [requestOf(measure, side)] });
  if (result.non2xx || result.errors) throw new Error(`${measure} on ${side.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  // The statistics projector counts the round's events just after it: a second covers it.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return (1000 * (cpuMs(pid) - cpu0)) / result.requests.total;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const sides: Side[] = [];
try {
  sides.push(await startSide('this build', path.join(root, 'packages/gateway/dist')));
  sides.push(await startSide('before', before));
  console.log(
    `load: ${connections} connections, ${requestsPerRound} requests per round, ${rounds} rounds alternating between this build ` +
      `(packages/gateway/dist) and ${path.relative(root, before)}, each a gateway on its own redis-server (AOF everysec)`,
  );
  const lines: string[] = [];
  for (const measure of ['transition', 'create', 'idempotent-create', 'get', 'list'].filter((m) => only.some((o) => m.startsWith(o)))) {
    const figures = new Map<Side, number[]>(sides.map((s) => [s, []]));
    for (const side of sides) await round(measure, side);
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first, so neither always follows the other's background work.
      for (const side of r % 2 ? [...sides].reverse() : sides) figures.get(side)!.push(await round(measure, side));
    }
    const [mine, theirs] = sides.map((s) => figures.get(s)!);
    for (const side of sides)
      console.log(
        `  ${side.name}: ${figures
          .get(side)!
          .map((us) => us.toFixed(0))
          .join(' ')} µs of gateway CPU per request`,
      );
    const ratios = mine!.map((us, r) => us / theirs![r]!);
    console.log(`  ratios per round: ${ratios.map((x) => x.toFixed(2)).join(' ')} (below 1: this build spends less)`);
    lines.push(
      `${measure}: ${median(mine!).toFixed(0)} µs of gateway CPU per request, baseline (before) ${median(theirs!).toFixed(0)} µs, ` +
        `ratio ${median(ratios).toFixed(2)}`,
    );
    console.log(lines.at(-1));
  }
  console.log('');
  for (const line of lines) console.log(line);
} finally {
  for (const side of sides) {
    side.gateway.kill();
    await side.redis.stop();
    rmSync(side.dir, { recursive: true, force: true });
  }
}
