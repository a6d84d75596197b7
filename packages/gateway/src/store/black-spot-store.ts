import type { Cluster, Redis } from 'ioredis';
import type { BlackSpot } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';
import { compareStreamIds } from '../redis/stream-hub.js';

/** The record as stored: what only an opening or an inspection changes. */
type StoredBlackSpot = Omit<BlackSpot, 'ticketsSince' | 'lastTicketAt' | 'escalatedAt'>;

/** A cell's reports in one counted batch, as the black-spot script takes them. */
export interface CellReports {
  cell: string;
  count: number;
  /** The newest report's time (ISO). */
  at: string;
  /** The first calendar day (YYYYMMDD) of the counting window ending at `at`. */
  firstDay: string;
  /** The month (YYYYMM) `at` falls in. */
  month: string;
  /** The record a cell that reaches the threshold becomes, with `__CODE__` and `__TOTAL__` for the script to fill in. */
  template: string;
}

const activityFields = (code: string) => [`${code}:n`, `${code}:at`, `${code}:esc`] as const;

function withActivity(stored: StoredBlackSpot, [since, lastAt, escalatedAt]: (string | null | undefined)[]): BlackSpot {
  return { ...stored, ticketsSince: Number(since ?? 0), lastTicketAt: lastAt ?? stored.openedAt, ...(escalatedAt ? { escalatedAt } : {}) };
}

/**
 * Black spots as stored: each spot's record (changed by its opening and its inspections) apart
 * from its activity (tickets since it opened, the newest, when it was escalated), which the
 * statistics projector updates with every counted batch without rewriting the record.
 */
export class BlackSpotStore {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  async get(tenantId: string, code: string): Promise<BlackSpot | undefined> {
    const keys = tenantKeys(tenantId);
    const [raw, activity] = await Promise.all([this.redis.hget(keys.blackSpots, code), this.redis.hmget(keys.blackSpotActivity, ...activityFields(code))]);
    return raw ? withActivity(JSON.parse(raw) as StoredBlackSpot, activity) : undefined;
  }

  async list(tenantId: string): Promise<BlackSpot[]> {
    const keys = tenantKeys(tenantId);
    const [records, activity] = await Promise.all([this.redis.hvals(keys.blackSpots), this.redis.hgetall(keys.blackSpotActivity)]);
    return records.map((raw) => {
      const stored = JSON.parse(raw) as StoredBlackSpot;
      return withActivity(
        stored,
        activityFields(stored.code).map((field) => activity[field]),
      );
    });
  }

  /** Stores the spot's record; a spot closed out also leaves its cell free for a new one, in the same step. */
  async put(tenantId: string, spot: BlackSpot): Promise<void> {
    const keys = tenantKeys(tenantId);
    const { ticketsSince: _n, lastTicketAt: _at, escalatedAt: _esc, ...stored } = spot;
    const write = this.redis.multi().hset(keys.blackSpots, spot.code, JSON.stringify(stored));
    if (spot.status === 'closed') write.hdel(keys.openBlackSpots, spot.cell);
    await write.exec();
  }

  /**
   * Counts a pending batch's reports per cell and day (civicloopBlackSpotNote): a cell that
   * reaches `threshold` in its window is coded as a spot (`codePrefix` and a number), and the
   * activity of spots already open is brought up to date. Once per batch: false when the batch
   * was no longer pending (another gateway noted it).
   */
  async noteReports(
    tenantId: string,
    batch: string,
    cells: CellReports[],
    options: { threshold: number; ttlMs: number; codePrefix: string },
  ): Promise<boolean> {
    const keys = tenantKeys(tenantId);
    const args: (string | number)[] = [];
    for (const c of cells) args.push(c.cell, c.count, c.at, c.firstDay, c.month, c.template);
    const opened = await this.redis.civicloopBlackSpotNote(
      5 + cells.length,
      keys.openBlackSpots,
      keys.blackSpots,
      keys.blackSpotSequence,
      keys.blackSpotActivity,
      keys.blackSpotPending,
      ...cells.map((c) => keys.stats.cellDays(c.cell)),
      options.threshold,
      options.ttlMs,
      options.codePrefix,
      batch,
      ...args,
    );
    return opened !== null;
  }

  /** Counted batches whose reports were kept for the note and not yet noted: batch -> reports (JSON), oldest first. */
  async pendingReports(tenantId: string): Promise<[batch: string, reports: string][]> {
    const pending = Object.entries(await this.redis.hgetall(tenantKeys(tenantId).blackSpotPending));
    return pending.sort(([a], [b]) => compareStreamIds(a, b));
  }

  /** Forgets a pending batch that cannot be noted (its tenant is gone). */
  async dropPending(tenantId: string, batch: string): Promise<void> {
    await this.redis.hdel(tenantKeys(tenantId).blackSpotPending, batch);
  }

  /** Marks a spot escalated, once (HSETNX: once across gateways too); whether this call did. */
  async markEscalated(tenantId: string, code: string, at: Date): Promise<boolean> {
    return (await this.redis.hsetnx(tenantKeys(tenantId).blackSpotActivity, `${code}:esc`, at.toISOString())) === 1;
  }
}
