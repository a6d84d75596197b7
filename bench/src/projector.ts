/**
 * npm run bench:projector: what counting an event costs the statistics projector, which runs in
 * every gateway beside the API and follows the event stream every write adds to. BENCH_TICKETS
 * (1,000) dispatched tickets are reassigned BENCH_EVENTS (20,000) times in turn through the ticket
 * service, as bench:api's transition load does; then the projector counts them (one gateway
 * continuing from its own cursor, as under steady load), and, as the baseline, the same entries
 * are read in batches of the same size and each event parsed: what any reader of the stream pays
 * before counting anything. CPU per event of this process and of redis-server, BENCH_ROUNDS (3)
 * rounds; the last line gives the median of the per-round ratios.
 *
 * BENCH_EVENT=report counts new reports instead, spread as bench:api's creates are: what the
 * projector costs every create (each report's attribution, its grid cell, the black-spot check).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, connectRedis, loadConfig, startRedisServer, tenantKeys } from '@civicloop/gateway';
import type { Principal } from '@civicloop/model';
import { cpuMs } from './process-cpu.js';
import { spreadReports } from './reports.js';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 500; // the projector's batch (stats/stats-projector.ts)
const KIND = process.env.BENCH_EVENT ?? 'reassign';
if (KIND !== 'reassign' && KIND !== 'report') throw new Error(`BENCH_EVENT is reassign or report, not ${KIND}`);

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-projector-'));
// No AOF: writing the events is set-up; counting them is what is measured.
const redisServer = await startRedisServer({ dir, appendOnly: false });
const redis = await connectRedis({ url: redisServer.url, cluster: false });
const reader = await connectRedis({ url: redisServer.url, cluster: false });
const config = loadConfig(
  {},
  {
    port: 0,
    redisUrl: redisServer.url,
    logLevel: 'silent',
    mqttEnabled: false,
    jt808Port: false,
    schedulerEnabled: false,
    webhooksEnabled: false,
    duplicateRadiusMeters: 0,
    dataDir: dir,
  },
);
const gateway = await buildApp({ config, redis, masterKey: 'bench', logger: false });

/** CPU time (µs) of this process and of redis-server spent in `work`, and what it returned. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; ownUs: number; redisUs: number }> {
  const [own0, redis0] = [process.cpuUsage(), cpuMs(redisServer.pid)];
  const result = await work();
  const own = process.cpuUsage(own0);
  return { result, ownUs: own.user + own.system, redisUs: (cpuMs(redisServer.pid) - redis0) * 1000 };
}

try {
  const issued = await gateway.services.tenants.create({ code: 'PROJ', name: 'Projector bench' });
  const tenantId = issued.tenant.id;
  for (const id of ['u1', 'u2']) await gateway.services.directory.createUnit(tenantId, { id, name: id });
  const principal: Principal = { tenantId, sub: 'bench', role: 'service', via: 'secret_key' };
  const ids: string[] = [];
  // The tickets to reassign, in either mode: creating and counting them warms the code up.
  for (let i = 0; i < TICKETS; i++) {
    const location = { lat: 22.9 + (i % 100) * 0.005, lon: 113.1 + (i % 97) * 0.005 };
    const { ticket } = await gateway.ticketService.create(
      principal,
      { category: 'sanitation.bin_overflow', description: `Bench ticket ${i}`, location },
      undefined,
    );
    await gateway.ticketService.run(principal, ticket.id, 'dispatch', { unitId: 'u1' }, undefined);
    ids.push(ticket.id);
  }
  await gateway.stats.catchUp(tenantId);
  const events = tenantKeys(tenantId).events;
  const nextReport = spreadReports();
  let written = 0;
  const ratios: number[] = [];
  const perEvent: { projector: number; baseline: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = (await reader.xrevrange(events, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    const target = written + EVENTS;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (written < target) {
          const i = written++;
          if (KIND === 'report') await gateway.ticketService.create(principal, JSON.parse(nextReport()), undefined);
          else await gateway.ticketService.run(principal, ids[i % TICKETS]!, 'reassign', { unitId: Math.floor(i / TICKETS) % 2 ? 'u1' : 'u2' }, undefined);
        }
      }),
    );
    const baseline = await measured(async () => {
      let cursor = before;
      let parsed = 0;
      for (;;) {
        const entries = (await reader.xrange(events, `(${cursor}`, '+', 'COUNT', BATCH)) as [string, string[]][];
        if (entries.length === 0) return parsed;
        for (const [, fields] of entries) if (JSON.parse(fields[1]!).ticketId) parsed++;
        cursor = entries.at(-1)![0];
      }
    });
    const projector = await measured(() => gateway.stats.catchUp(tenantId));
    if (projector.result !== EVENTS || baseline.result !== EVENTS)
      throw new Error(`counted ${projector.result} and read ${baseline.result} of ${EVENTS} events`);
    const projectorUs = projector.ownUs / EVENTS;
    const baselineUs = baseline.ownUs / EVENTS;
    perEvent.push({ projector: projectorUs, baseline: baselineUs });
    ratios.push(baselineUs / projectorUs);
    console.log(
      `round ${round + 1}: projector ${projectorUs.toFixed(1)} µs CPU per event (its redis-server ${(projector.redisUs / EVENTS).toFixed(1)} µs); ` +
        `read and parse only ${baselineUs.toFixed(1)} µs (its redis-server ${(baseline.redisUs / EVENTS).toFixed(1)} µs)`,
    );
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const projectorRate = 1e6 / median(perEvent.map((p) => p.projector));
  const baselineRate = 1e6 / median(perEvent.map((p) => p.baseline));
  console.log(`count (${KIND}): ${projectorRate.toFixed(0)} events/s, baseline ${baselineRate.toFixed(0)} events/s, ratio ${median(ratios).toFixed(2)}`);
} finally {
  await gateway.app.close();
  await reader.quit();
  await redis.quit();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
