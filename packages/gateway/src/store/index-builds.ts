import { TERMINAL_STATUSES, TICKET_STATUSES, parseIsoTime, type Ticket } from '@civicloop/model';
import type { Cluster, Redis } from 'ioredis';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';

/** The name the assignee-open index's build is recorded under, in the tenant's `idx:built` hash. */
export const ASSIGNEE_OPEN = 'assigneeOpen';
/** Tickets read and indexed per step of a build. */
const BUILD_STEP = 200;
const REMEMBERED_TENANTS = 10_000;

/** A new tenant has no tickets: every one it will have is indexed by the write that stores it. */
export async function markIndexesBuiltForNewTenant(redis: Redis | Cluster, tenantId: string, now: Date): Promise<void> {
  await redis.hset(tenantKeys(tenantId).index.built, ASSIGNEE_OPEN, now.toISOString());
}

/**
 * Indexes added after a deployment already holds tickets. Every write keeps such an index from
 * the version that added it on (store/indexes.ts); the tickets stored before are put in by a
 * build, once per tenant, which a gateway starts in the background for each tenant it finds
 * unbuilt. Until a tenant's build has finished, readers take the index the new one refines
 * (every ticket the person was ever assigned, filtered ticket by ticket): slower, still right.
 */
export class IndexBuilds {
  /** Tenants whose build is known finished: that never goes back, so it is asked once. */
  private readonly built = new Set<string>();

  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  /** Whether the tenant's assignee-open index holds every ticket it should. */
  async assigneeOpenReady(tenantId: string): Promise<boolean> {
    if (this.built.has(tenantId)) return true;
    const done = (await this.redis.hexists(tenantKeys(tenantId).index.built, ASSIGNEE_OPEN)) === 1;
    if (done) {
      if (this.built.size >= REMEMBERED_TENANTS) this.built.clear();
      this.built.add(tenantId);
    }
    return done;
  }

  /**
   * Puts every unfinished assigned ticket of the tenant into its assignee's open index, then
   * records the build. Safe beside live writes and beside another gateway's build of the same
   * tenant: each status index is walked with ZSCAN, which returns every member present from start
   * to end (a ticket that moves meanwhile is indexed by its own commit), and each ticket is added
   * only if its stored document still says what was read (redis/scripts/index-assignee-open.ts).
   * Returns how many tickets it indexed.
   */
  async buildAssigneeOpen(tenantId: string, now: Date): Promise<number> {
    const keys = tenantKeys(tenantId);
    const terminal = ` ${TERMINAL_STATUSES.join(' ')} `;
    let indexed = 0;
    for (const status of TICKET_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s))) {
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.zscan(keys.index.status(status), cursor, 'COUNT', BUILD_STEP);
        cursor = next;
        const ids = flat.filter((_, i) => i % 2 === 0);
        indexed += await this.indexStep(tenantId, ids, terminal);
      } while (cursor !== '0');
    }
    await this.redis.hset(keys.index.built, ASSIGNEE_OPEN, now.toISOString());
    this.built.add(tenantId);
    return indexed;
  }

  private async indexStep(tenantId: string, ids: string[], terminal: string): Promise<number> {
    if (ids.length === 0) return 0;
    const keys = tenantKeys(tenantId);
    const flat = await this.redis.civicloopReadTickets(ids.length, ...ids.map((id) => keys.ticket(id)));
    const pairs: string[] = [];
    const args: (string | number)[] = [terminal];
    ids.forEach((id, i) => {
      const doc = flat[3 * i + 2];
      if (typeof doc !== 'string') return;
      const ticket = JSON.parse(doc) as Pick<Ticket, 'assigneeId' | 'createdAt'>;
      if (!ticket.assigneeId) return;
      pairs.push(keys.ticket(id), keys.index.assigneeOpen(ticket.assigneeId));
      args.push(ticket.assigneeId, parseIsoTime(ticket.createdAt), id);
    });
    if (pairs.length === 0) return 0;
    return this.redis.civicloopIndexAssigneeOpen(pairs.length, ...pairs, ...args);
  }
}
