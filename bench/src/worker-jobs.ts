/**
 * npm run bench:worker-jobs: what a worker's job list costs once they have finished many jobs.
 * Two tenants of one in-process gateway (embedded redis-server) each have a worker with
 * BENCH_OPEN (10) open jobs, reported first, and BENCH_FINISHED (1500) finished since. One tenant
 * lists them from the index of the worker's unfinished tickets; the other, whose build record of
 * that index is taken away before its first list (as in a deployment whose tickets predate it),
 * the older way: every ticket the worker was ever assigned, read and filtered (the baseline). The
 * worker app's request, GET /v1/tickets?assigneeId=...&status=dispatched,accepted,on_site,rework,
 * is sent BENCH_REQUESTS (200) times one after another to each, alternating, for BENCH_ROUNDS (3)
 * rounds; the figures are the medians. Below 2,000 finished jobs both ways answer every open job
 * (beyond, the older way runs out of its scan budget first; the line says how many each found).
 */
import { OPEN_INDEXES, tenantKeys } from '@civicloop/gateway';
import { requestJson } from './json-request.js';
import { startPageGateway } from './page-gateway.js';

const OPEN = Number(process.env.BENCH_OPEN ?? 10);
const FINISHED = Number(process.env.BENCH_FINISHED ?? 1500);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKING = 'dispatched,accepted,on_site,rework';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const { gateway, stop } = await startPageGateway('worker-jobs');

async function seededTenant(code: string): Promise<{ id: string; auth: string }> {
  const { tenant, secretKey } = await gateway.services.tenants.create({ code, name: `Bench worker jobs ${code}` });
  await gateway.services.directory.createUnit(tenant.id, { id: 'sanitation', name: 'Sanitation', categories: ['sanitation.bin_overflow'] });
  await gateway.services.directory.createStaff(tenant.id, { id: 'w-bench', name: 'Li', role: 'worker', unitId: 'sanitation', skills: [] });
  const post = async (route: string, body: unknown): Promise<{ id: string }> =>
    requestJson(`${gateway.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${secretKey}` }, body: JSON.stringify(body) });
  const job = async (i: number) => {
    const ticket = await post('/v1/tickets', {
      category: 'sanitation.bin_overflow',
      description: `Bench job ${i}`,
      location: { lat: 23.1 + (i % 500) / 5000, lon: 113.3 + Math.floor(i / 500) / 500, address: `Stop ${i}` },
    });
    await post(`/v1/tickets/${ticket.id}/dispatch`, { unitId: 'sanitation', assigneeId: 'w-bench' });
    return ticket.id;
  };
  const open: string[] = [];
  for (let i = 0; i < OPEN; i++) open.push(await job(i));
  for (let i = 0; i < FINISHED; i++) await post(`/v1/tickets/${await job(OPEN + i)}/merge`, { into: open[0] });
  return { id: tenant.id, auth: `Bearer ${secretKey}` };
}

/** Requests a second, and how many jobs the last answer held. */
async function listRun(auth: string): Promise<{ perSecond: number; found: number }> {
  let found = 0;
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const response = await fetch(`${gateway.url}/v1/tickets?assigneeId=w-bench&status=${WORKING}&limit=200`, { headers: { authorization: auth } });
    if (!response.ok) throw new Error(`list: ${response.status} ${await response.text()}`);
    found = ((await response.json()) as { items: unknown[] }).items.length;
  }
  return { perSecond: (REQUESTS * 1000) / (performance.now() - started), found };
}

try {
  const indexed = await seededTenant('WJOBSA');
  const older = await seededTenant('WJOBSB');
  await gateway.services.redis.hdel(tenantKeys(older.id).index.built, ...Object.keys(OPEN_INDEXES));
  const runs = { indexed: [] as number[], older: [] as number[] };
  const found = { indexed: 0, older: 0 };
  // Warm-up of both, not counted.
  await listRun(indexed.auth);
  await listRun(older.auth);
  for (let round = 1; round <= ROUNDS; round++) {
    const a = await listRun(indexed.auth);
    const b = await listRun(older.auth);
    runs.indexed.push(a.perSecond);
    runs.older.push(b.perSecond);
    found.indexed = a.found;
    found.older = b.found;
    console.log(`round ${round}: open index ${a.perSecond.toFixed(0)} req/s, every ticket the worker had ${b.perSecond.toFixed(0)} req/s`);
  }
  const [x, y] = [median(runs.indexed), median(runs.older)];
  console.log('');
  console.log(
    `worker jobs (${OPEN} open, ${FINISHED} finished; found ${found.indexed} and ${found.older}): ` +
      `${x.toFixed(0)} req/s, baseline ${y.toFixed(0)} req/s, ratio ${(x / y).toFixed(2)}`,
  );
} finally {
  await stop();
}
