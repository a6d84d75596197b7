import { TERMINAL_STATUSES, type Ticket } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { ArrivalStore } from './arrival-store.js';
import { IndexBuilds, OPEN_INDEXES } from './index-builds.js';

const WORKING = 'dispatched,accepted,on_site,rework';
let gw: TestGateway;
let dispatcher: string;
let reportedAt = Date.parse('2026-01-01T01:00:00Z');
/** w-1's open job, reported before the 2,100 they finished. */
let old: Ticket;

beforeAll(async () => {
  gw = await startTestGateway();
  gw.services.now = () => new Date(reportedAt);
  dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
});
afterAll(async () => gw?.close());

const keys = () => tenantKeys(gw.tenant.id);
const worker = (id: string) => gw.tenant.token(id, 'worker', { unitId: id === 'w-3' ? 'municipal' : 'sanitation' });
const post = async (path: string, auth: string, body: object = {}) => {
  const res = await inject(gw, 'POST', path, { auth, body });
  if (res.status !== 200 && res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  // A command answers with the ticket and its event, a create with the ticket.
  return (res.body.ticket ?? res.body) as Ticket;
};
/** A new report, a minute after the one before, dispatched to `assigneeId`. */
async function job(assigneeId: string): Promise<Ticket> {
  reportedAt += 60_000;
  const spot = reportedAt / 6e7;
  const created = await post('/v1/tickets', gw.tenant.secretKey, { ...BIN_REPORT, location: { lat: 23 + (spot % 0.3), lon: 113.2, address: `Stop ${spot}` } });
  const unitId = assigneeId === 'w-3' ? 'municipal' : 'sanitation';
  return post(`/v1/tickets/${created.id}/dispatch`, dispatcher, { unitId, assigneeId });
}
const jobsOf = async (assigneeId: string, via = gw) =>
  (await inject(via, 'GET', `/v1/tickets?assigneeId=${assigneeId}&status=${WORKING}&limit=200`, { auth: await worker(assigneeId) })).body as {
    items: Ticket[];
    nextCursor: string | null;
  };

const NAMES = Object.keys(OPEN_INDEXES);
/** Every key of the open indexes, assignees' and units'. */
const openKeys = async () => [...(await gw.redis.client.keys(keys().index.assigneeOpen('*'))), ...(await gw.redis.client.keys(keys().index.unitOpen('*')))];
const builtRecorded = async () => (await gw.redis.client.hmget(keys().index.built, ...NAMES)).every((at) => at !== null);

/** What the open indexes should hold, worked out from every stored document, against what they hold. */
async function indexesAgainstDocuments(): Promise<{ expected: Record<string, string[]>; stored: Record<string, string[]> }> {
  const redis = gw.redis.client;
  const ids = await redis.zrange(keys().index.all, 0, -1);
  const docs = await gw.services.tickets.getMany(gw.tenant.id, ids);
  const expected: Record<string, string[]> = {};
  const add = (key: string, id: string) => {
    expected[key] = [...(expected[key] ?? []), id].sort();
  };
  for (const t of docs) {
    if (!t || TERMINAL_STATUSES.includes(t.status)) continue;
    if (t.assigneeId) add(keys().index.assigneeOpen(t.assigneeId), t.id);
    if (t.unitId) add(keys().index.unitOpen(t.unitId), t.id);
  }
  const stored: Record<string, string[]> = {};
  for (const key of await openKeys()) stored[key] = (await redis.zrange(key, 0, -1)).sort();
  return { expected, stored };
}

/** As a deployment whose tickets were stored by a version before the open indexes: none of them, and no build recorded. */
async function asStoredBeforeTheIndex(): Promise<void> {
  const stale = await openKeys();
  if (stale.length) await gw.redis.client.del(...stale);
  await gw.redis.client.hdel(keys().index.built, ...NAMES);
}

describe("each assignee's and each unit's unfinished tickets", () => {
  it('lists a job a worker has had open while they finished more than two thousand others, on the first page', async () => {
    old = await job('w-1');
    for (let i = 0; i < 2100; i++) {
      const done = await job('w-1');
      await post(`/v1/tickets/${done.id}/merge`, dispatcher, { into: old.id });
    }
    const page = await jobsOf('w-1');
    expect(page.items.map((t) => t.id)).toEqual([old.id]);
    expect(page.nextCursor).toBeNull();
    // Every ticket the worker had is still listed when finished ones are asked for too.
    const all = await inject(gw, 'GET', '/v1/tickets?assigneeId=w-1&limit=5', { auth: dispatcher });
    expect(all.body.items).toHaveLength(5);
    expect(all.body.items.every((t: Ticket) => t.status === 'duplicate')).toBe(true);
  }, 120_000);

  it("lists a unit's open work on the first page when more than two thousand jobs were dispatched elsewhere since", async () => {
    // The unit finished 2,100 jobs since w-1's open one (above); now the city has 2,100 more open, all another unit's.
    for (let i = 0; i < 2100; i++) await job('w-3');
    const page = await inject(gw, 'GET', '/v1/tickets?unitId=sanitation&status=dispatched&limit=200', { auth: await worker('w-2') });
    expect(page.body.items.map((t: Ticket) => t.id)).toEqual([old.id]);
    expect(page.body.nextCursor).toBeNull();
  }, 120_000);

  it('puts a ticket stored before the indexes into them at its next write, even one that keeps its assignee and unit', async () => {
    const ticket = await job('w-2');
    await asStoredBeforeTheIndex();
    expect(await gw.redis.client.zscore(keys().index.assigneeOpen('w-2'), ticket.id)).toBeNull();
    await post(`/v1/tickets/${ticket.id}/accept`, await worker('w-2'));
    expect(await gw.redis.client.zscore(keys().index.assigneeOpen('w-2'), ticket.id)).not.toBeNull();
    expect(await gw.redis.client.zscore(keys().index.unitOpen('sanitation'), ticket.id)).not.toBeNull();
  });

  it('indexes a ticket only if its stored document still names the owner read and is unfinished', async () => {
    const moved = await job('w-1');
    const closed = await job('w-1');
    const kept = await job('w-1');
    await asStoredBeforeTheIndex();
    // What a build read before these commits: all three with w-1.
    await post(`/v1/tickets/${moved.id}/reassign`, dispatcher, { unitId: 'sanitation', assigneeId: 'w-2' });
    await post(`/v1/tickets/${closed.id}/merge`, dispatcher, { into: kept.id });
    await gw.redis.client.del(...(await openKeys()));
    const terminal = ` ${TERMINAL_STATUSES.join(' ')} `;
    const read = [moved, closed, kept];
    const pairs = read.flatMap((t) => [keys().ticket(t.id), keys().index.assigneeOpen('w-1'), keys().ticket(t.id), keys().index.unitOpen('sanitation')]);
    const args = read.flatMap((t) => ['assigneeId', 'w-1', Date.parse(t.createdAt), t.id, 'unitId', 'sanitation', Date.parse(t.createdAt), t.id]);
    expect(await gw.services.redis.civicloopIndexOpen(pairs.length, ...pairs, terminal, ...args)).toBe(3);
    expect(await gw.redis.client.zrange(keys().index.assigneeOpen('w-1'), 0, -1)).toEqual([kept.id]);
    // The reassignment kept the unit: that entry is still right.
    expect((await gw.redis.client.zrange(keys().index.unitOpen('sanitation'), 0, -1)).sort()).toEqual([moved.id, kept.id].sort());
  });

  it('builds the indexes over tickets stored before them while commands change them, to exactly what the documents say', async () => {
    const open: Ticket[] = [];
    for (let i = 0; i < 300; i++) open.push(await job(['w-1', 'w-2', 'w-3'][i % 3]!));
    for (const t of open.slice(0, 60)) await post(`/v1/tickets/${t.id}/accept`, await worker(t.assigneeId!));
    const finished = await job('w-1');
    await post(`/v1/tickets/${finished.id}/merge`, dispatcher, { into: open[299]!.id });
    await asStoredBeforeTheIndex();
    await gw.services.directory.createStaff(gw.tenant.id, { id: 'w-idle', name: 'Worker with nothing open', role: 'worker', unitId: 'sanitation' });
    // What gateways from before the open indexes leave in them during a rolling upgrade: a ticket
    // they finished, one they gave someone else (in the old owner's index), one that is gone; and
    // in the index of someone in the directory with nothing open now.
    const left = [
      [keys().index.assigneeOpen('w-1'), finished.id],
      [keys().index.assigneeOpen('w-idle'), finished.id],
      [keys().index.unitOpen('sanitation'), finished.id],
      [keys().index.assigneeOpen('w-3'), open[0]!.id],
      [keys().index.unitOpen('municipal'), 't_gone'],
    ] as const;
    for (const [key, id] of left) await gw.redis.client.zadd(key, 1, id);
    const second = await startTestGateway({}, { redis: gw.redis });
    try {
      // The second gateway, new to this tenant, builds at its start; the first one's commands run meanwhile.
      const commands = open.slice(0, 150).map(async (t, i) => {
        if (i % 5 === 0) return post(`/v1/tickets/${t.id}/reassign`, dispatcher, { unitId: 'sanitation', assigneeId: i % 2 ? 'w-1' : 'w-2' });
        if (i % 5 === 1) return post(`/v1/tickets/${t.id}/merge`, dispatcher, { into: open[299]!.id }).catch(() => undefined);
        if (i % 5 === 2) return post(`/v1/tickets/${t.id}/return`, await worker(t.assigneeId!), { reason: 'not_mine' }).catch(() => undefined);
        return undefined;
      });
      await Promise.all([second.indexBuild.finished(), ...commands]);
      const { expected, stored } = await indexesAgainstDocuments();
      // Exactly what the documents say: what was left behind is taken out, and nothing else is.
      expect(stored).toEqual(expected);
      for (const [key, id] of left) expect(await gw.redis.client.zscore(key, id), `${key} ${id}`).toBeNull();
      expect(Object.keys(expected).length).toBe(5);
      expect(Object.values(expected).flat().length).toBeGreaterThan(400);
      expect(await builtRecorded()).toBe(true);
      // Both gateways now list from it, and agree with the documents.
      expect((await jobsOf('w-2', second)).items.map((t) => t.id).sort()).toEqual(expected[keys().index.assigneeOpen('w-2')]);
    } finally {
      await second.close();
    }
  }, 120_000);

  it('lists a worker their jobs while the build has not run, and builds once a damaged index no longer stops it', async () => {
    const ticket = await job('w-3');
    await asStoredBeforeTheIndex();
    // A key of the wrong type where the build reads: the build fails until it is mended.
    await gw.redis.client.set(keys().index.status('rework'), 'not a sorted set');
    let warn: (line: string) => void = () => undefined;
    const warned = new Promise<string>((resolve) => (warn = resolve));
    const stream = { write: (line: string) => line.includes('index build failed') && warn(line) };
    const second = await startTestGateway({}, { redis: gw.redis, logger: { level: 'warn', stream } as { level: string } });
    try {
      expect(await warned).toContain('WRONGTYPE');
      expect(await gw.redis.client.hmget(keys().index.built, ...NAMES)).toEqual([null, null]);
      expect((await jobsOf('w-3', second)).items.map((t) => t.id)).toContain(ticket.id);
      await gw.redis.client.del(keys().index.status('rework'));
      await second.indexBuild.finished();
      expect(await builtRecorded()).toBe(true);
      expect(await gw.redis.client.zscore(keys().index.assigneeOpen('w-3'), ticket.id)).not.toBeNull();
    } finally {
      await second.close();
    }
  }, 60_000);

  it('answers arrival detection from the open index once it is built, and from every ticket the worker had before', async () => {
    const accepted = await job('w-1');
    await post(`/v1/tickets/${accepted.id}/accept`, await worker('w-1'));
    const arrivals = new ArrivalStore(gw.services.redis, new IndexBuilds(gw.services.redis));
    await asStoredBeforeTheIndex();
    expect(await arrivals.awaitingArrival(gw.tenant.id, 'w-1')).toContain(accepted.id);
    await new IndexBuilds(gw.services.redis).build(gw.tenant.id, new Date());
    // Taken out of the index of every ticket the worker had: only the open index can still answer it.
    await gw.redis.client.zrem(keys().index.assignee('w-1'), accepted.id);
    try {
      expect(await arrivals.awaitingArrival(gw.tenant.id, 'w-1')).toContain(accepted.id);
    } finally {
      await gw.redis.client.zadd(keys().index.assignee('w-1'), Date.parse(accepted.createdAt), accepted.id);
    }
  });

  it('builds again where built only with REBUILD_INDEXES', async () => {
    const ticket = await job('w-2');
    // An entry an older gateway never wrote, in a tenant whose build is recorded.
    await gw.redis.client.zrem(keys().index.assigneeOpen('w-2'), ticket.id);
    const plain = await startTestGateway({}, { redis: gw.redis });
    await plain.indexBuild.finished();
    await plain.close();
    expect(await gw.redis.client.zscore(keys().index.assigneeOpen('w-2'), ticket.id)).toBeNull();
    const rebuilding = await startTestGateway({ rebuildIndexes: true }, { redis: gw.redis });
    await rebuilding.indexBuild.finished();
    await rebuilding.close();
    expect(await gw.redis.client.zscore(keys().index.assigneeOpen('w-2'), ticket.id)).not.toBeNull();
  }, 60_000);
});
