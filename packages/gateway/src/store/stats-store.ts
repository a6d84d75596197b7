import type { Cluster, Redis } from 'ioredis';
import { tenantKeys } from '../redis/keys.js';
import { readPipeline } from '../redis/read-pipeline.js';
import { registerScripts } from '../redis/scripts/index.js';

/** A counted batch, as the statistics projector (stats/stats-projector.ts) hands it over. */
export interface CountedBatch<A> {
  /** The stream id the batch was read after: it is applied only if the cursor is still there. */
  from: string;
  /** The id of its last entry: the cursor afterwards. */
  to: string;
  /** The tickets whose attribution the batch changed, with their new one. */
  attributions: [ticketId: string, attribution: A][];
  /** Counter changes by report day (YYYYMMDD): field -> change. */
  days: Map<string, Map<string, number>>;
  /** Reports per grid cell and day: cell -> day -> change. */
  cells: Map<string, Map<string, number>>;
  /** The batch's reports per cell as the black-spot note takes them (JSON), kept pending with the cursor; '' when none. */
  spotReports: string;
}

/**
 * The statistics as stored: each tenant's cursor in its event stream, each ticket's attribution
 * (what it counts in), the per-day counters and the reports per grid cell and day, and the short
 * lock that lets one gateway at a time count a tenant's events.
 */
export class StatsStore {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  /** Each day's hashes (YYYYMMDD, in order): the KPI counters and the workforce figures. */
  async days(tenantId: string, days: string[]): Promise<{ counters: Record<string, string>[]; workforce: Record<string, string>[] }> {
    const keys = tenantKeys(tenantId);
    const pipeline = readPipeline(this.redis);
    for (const day of days) pipeline.hgetall(keys.stats.day(day));
    for (const day of days) pipeline.hgetall(keys.stats.workforce(day));
    const replies = (await pipeline.exec()) ?? [];
    const hashes = replies.map(([error, hash]) => {
      if (error) throw error;
      return hash as Record<string, string>;
    });
    return { counters: hashes.slice(0, days.length), workforce: hashes.slice(days.length) };
  }

  /** Takes the tenant's counting lock for `holder`, or finds it already theirs. */
  async lock(tenantId: string, holder: string, ttlMs: number): Promise<boolean> {
    const key = tenantKeys(tenantId).stats.lock;
    return (await this.redis.set(key, holder, 'PX', ttlMs, 'NX')) !== null || (await this.redis.get(key)) === holder;
  }

  async renewLock(tenantId: string, ttlMs: number): Promise<void> {
    await this.redis.pexpire(tenantKeys(tenantId).stats.lock, ttlMs);
  }

  /** Releases the lock, only if it is still `holder`'s. */
  async unlock(tenantId: string, holder: string): Promise<void> {
    const key = tenantKeys(tenantId).stats.lock;
    if ((await this.redis.get(key)) === holder) await this.redis.del(key);
  }

  /** The id of the last event counted ('0-0': none yet). */
  async cursor(tenantId: string): Promise<string> {
    return (await this.redis.get(tenantKeys(tenantId).stats.cursor)) ?? '0-0';
  }

  /** The tenant's stream entries after `cursor`, oldest first, at most `count`. */
  async entriesAfter(tenantId: string, cursor: string, count: number): Promise<[id: string, fields: string[]][]> {
    return (await this.redis.xrange(tenantKeys(tenantId).events, `(${cursor}`, '+', 'COUNT', count)) as [string, string[]][];
  }

  /** The stored attributions of these tickets (those never counted are absent). */
  async attributions<A>(tenantId: string, ticketIds: string[]): Promise<Map<string, A>> {
    const keys = tenantKeys(tenantId);
    const stored = ticketIds.length > 0 ? await this.redis.mget(...ticketIds.map((id) => keys.stats.ticket(id))) : [];
    const out = new Map<string, A>();
    for (const [i, id] of ticketIds.entries()) if (stored[i]) out.set(id, JSON.parse(stored[i]!) as A);
    return out;
  }

  /**
   * Applies a counted batch and moves the cursor, in one script, only if the cursor is still
   * where the batch started: two projectors never count one event twice. The batch's reports per
   * cell stay pending for the black-spot note (BlackSpotStore.noteReports), written in the same
   * step. Whether it was applied.
   */
  async apply<A>(tenantId: string, batch: CountedBatch<A>): Promise<boolean> {
    const keys = tenantKeys(tenantId);
    const buckets = new Map<string, Map<string, number>>();
    for (const [day, fields] of batch.days) buckets.set(keys.stats.day(day), fields);
    for (const [cell, days] of batch.cells) buckets.set(keys.stats.cellDays(cell), days);
    const bucketArgs: (string | number)[] = [];
    for (const fields of buckets.values()) {
      const nonZero = [...fields].filter(([, change]) => change !== 0);
      bucketArgs.push(nonZero.length, ...nonZero.flat());
    }
    const applied = await this.redis.civicloopStatsApply(
      2 + batch.attributions.length + buckets.size,
      keys.stats.cursor,
      keys.blackSpotPending,
      ...batch.attributions.map(([id]) => keys.stats.ticket(id)),
      ...buckets.keys(),
      batch.from,
      batch.to,
      batch.spotReports,
      batch.attributions.length,
      ...batch.attributions.map(([, a]) => JSON.stringify(a)),
      ...bucketArgs,
    );
    return Boolean(applied);
  }
}
