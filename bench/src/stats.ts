/**
 * npm run bench:stats: GET /v1/stats latency for a tenant with BENCH_SMALL (10,000) tickets and
 * for one with BENCH_LARGE (1,000,000), side by side in one gateway on one redis-server. The
 * statistics are kept incrementally (per-day counters), so the larger tenant should cost about
 * the same: the last line gives the ratio (target <= 2).
 *
 * Tickets are created through the ticket service in-process (the HTTP layer is not what is being
 * measured), spread over 30 days by an injected clock; a third of them are dispatched and
 * resolved. The projector then counts every event; the queries run after that, over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, connectRedis, loadConfig, startRedisServer } from '@civicloop/gateway';
import type { Principal } from '@civicloop/model';

const SMALL = Number(process.env.BENCH_SMALL ?? 10_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const DAYS = 30;
const CONCURRENCY = 64;

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-stats-'));
// No AOF: loading a million tickets is set-up, not what is measured.
const redisServer = await startRedisServer({ dir, appendOnly: false });
const redis = await connectRedis({ url: redisServer.url, cluster: false });
const start = Date.parse('2026-10-01T00:00:00Z');
let clock = start;
const config = loadConfig(
  {},
  {
    port: 0,
    redisUrl: redisServer.url,
    logLevel: 'silent',
    rateLimitPerKey: 0,
    rateLimitPerAddress: 0,
    mqttEnabled: false,
    jt808Port: false,
    schedulerEnabled: false,
    webhooksEnabled: false,
    duplicateRadiusMeters: 0,
    streamMaxLen: 2 * LARGE,
    dataDir: dir,
  },
);
const gateway = await buildApp({ config, redis, masterKey: 'bench', logger: false, now: () => new Date(clock) });
await gateway.app.listen({ port: 0, host: '127.0.0.1' });
const address = gateway.app.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

async function loadTenant(code: string, count: number) {
  const issued = await gateway.services.tenants.create({ code, name: `Bench ${code}` });
  const tenantId = issued.tenant.id;
  await gateway.services.directory.createUnit(tenantId, { id: 'sanitation', name: 'Sanitation' });
  const principal: Principal = { tenantId, sub: 'bench', role: 'service', via: 'secret_key' };
  const categories = ['sanitation.bin_overflow', 'sanitation.scattered_litter', 'municipal.street_light', 'municipal.road_damage'];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        clock = start + Math.floor((i / count) * DAYS * 86_400_000);
        const { ticket } = await gateway.ticketService.create(
          principal,
          {
            category: categories[i % categories.length]!,
            description: `Bench ticket ${i}`,
            location: { lat: 23.1 + (i % 1000) * 1e-4, lon: 113.3 + (i % 997) * 1e-4 },
          },
          undefined,
        );
        if (i % 3 === 0) {
          await gateway.ticketService.run(principal, ticket.id, 'dispatch', { unitId: 'sanitation' }, undefined);
          await gateway.ticketService
            .run(principal, ticket.id, 'resolve', { photos: [{ ref: 'https://photos.example.org/bench.jpg' }] }, undefined)
            .catch(() => undefined);
        }
        if (i > 0 && i % 100_000 === 0) await gateway.stats.catchUp(tenantId);
      }
    }),
  );
  const loadSeconds = (performance.now() - started) / 1000;
  const countStarted = performance.now();
  await gateway.stats.catchUp(tenantId);
  console.log(`${code}: ${count} tickets created in ${loadSeconds.toFixed(0)} s, counted in ${((performance.now() - countStarted) / 1000).toFixed(1)} s`);
  return issued.secretKey;
}

async function latencies(secretKey: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const by = ['', '&by=unit', '&by=category', '&by=day'][i % 4];
    const t = performance.now();
    const response = await fetch(`${url}/v1/stats?from=2026-10-01&to=2026-10-30${by}`, { headers: { authorization: `Bearer ${secretKey}` } });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`stats answered ${response.status}`);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

try {
  const small = await loadTenant('SMALL', SMALL);
  const large = await loadTenant('LARGE', LARGE);
  // Alternate the two, so machine noise falls on both alike.
  const smallRuns: number[] = [];
  const largeRuns: number[] = [];
  for (let round = 0; round < 3; round++) {
    smallRuns.push(...(await latencies(small)));
    largeRuns.push(...(await latencies(large)));
  }
  smallRuns.sort((a, b) => a - b);
  largeRuns.sort((a, b) => a - b);
  const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
  console.log(
    `\nGET /v1/stats over 30 days (totals, by unit, by category, by day), ` +
      `${smallRuns.length} queries per tenant; Redis holds ${(memory / 2 ** 20).toFixed(0)} MB`,
  );
  console.log(`  ${SMALL} tickets: p50 ${pct(smallRuns, 0.5).toFixed(2)} ms, p99 ${pct(smallRuns, 0.99).toFixed(2)} ms`);
  console.log(`  ${LARGE} tickets: p50 ${pct(largeRuns, 0.5).toFixed(2)} ms, p99 ${pct(largeRuns, 0.99).toFixed(2)} ms`);
  console.log(
    `stats p50: ${pct(largeRuns, 0.5).toFixed(2)} ms with ${LARGE} tickets, baseline ${pct(smallRuns, 0.5).toFixed(2)} ` +
      `ms with ${SMALL} tickets, ratio ${(pct(largeRuns, 0.5) / pct(smallRuns, 0.5)).toFixed(2)}`,
  );
} finally {
  await gateway.app.close();
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
