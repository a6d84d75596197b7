import type { Cluster, Redis } from 'ioredis';
import { tenantKeys } from '../redis/keys.js';
import { OPEN_INDEXES, type IndexBuilds } from './index-builds.js';

/** How long an unfinished approach is remembered: a worker who wanders off for a day starts again. */
const APPROACH_TTL_MS = 86_400_000;
/** A device's field in a ticket's approach hash. */
const insideField = (deviceId: string) => `insideSince:${deviceId}`;

/**
 * What arrival detection (telemetry/arrival.ts) keeps between a device's reports: which tickets
 * wait for their worker to arrive, and since when each of the worker's devices (their badge, the
 * vehicle they drive) has been inside each one's distance. Each device counts its own dwell: a
 * truck parked 100 m off does not restart the count of the badge its driver wears to the bin.
 */
export class ArrivalStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly indexBuilds: IndexBuilds,
  ) {}

  /**
   * The worker's tickets in state accepted, and in rework: the ones a badge's position can bring
   * to on_site. Redis walks the smaller set of each pair: the worker's unfinished tickets, once
   * the tenant's index of them is built, rather than every ticket they ever had or every one in
   * that state. The two go in one write (the client batches a turn's commands).
   */
  async awaitingArrival(tenantId: string, staffId: string): Promise<string[]> {
    const keys = tenantKeys(tenantId);
    const index = OPEN_INDEXES.assigneeOpen;
    const theirs = (await this.indexBuilds.ready(tenantId, 'assigneeOpen')) ? index.key(keys, staffId) : index.everyTicket(keys, staffId);
    const found = await Promise.all(
      (['accepted', 'rework'] as const).map((status) => this.redis.call('ZINTER', 2, theirs, keys.index.status(status)) as Promise<string[]>),
    );
    return found.flat();
  }

  /** Since when (fix time, epoch ms) the device has been inside the ticket's enter distance, if it is. */
  async insideSince(tenantId: string, ticketId: string, deviceId: string): Promise<number | undefined> {
    const stored = await this.redis.hget(tenantKeys(tenantId).arrival(ticketId), insideField(deviceId));
    return stored === null ? undefined : Number(stored);
  }

  async setInsideSince(tenantId: string, ticketId: string, deviceId: string, since: number): Promise<void> {
    const key = tenantKeys(tenantId).arrival(ticketId);
    await this.redis.multi().hset(key, insideField(deviceId), String(since)).pexpire(key, APPROACH_TTL_MS).exec();
  }

  /** The device went beyond the exit distance: its count starts again next time; other devices' counts stay. */
  async left(tenantId: string, ticketId: string, deviceId: string): Promise<void> {
    await this.redis.hdel(tenantKeys(tenantId).arrival(ticketId), insideField(deviceId));
  }

  /** The worker arrived: every device's count for the ticket goes. */
  async forget(tenantId: string, ticketId: string): Promise<void> {
    await this.redis.del(tenantKeys(tenantId).arrival(ticketId));
  }
}
