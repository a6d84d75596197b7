import { TERMINAL_STATUSES, TICKET_STATUSES, parseIsoTime, type Ticket } from '@civicloop/model';
import type { Cluster, Redis } from 'ioredis';
import { tenantKeys, type TenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';

/**
 * The indexes added after tickets were stored, by the name their build is recorded under in the
 * tenant's `idx:built` hash: each an index of one owner's unfinished tickets, with the document
 * field that names the owner and the older index of every ticket the owner had, which readers
 * take until the build is recorded.
 */
export const OPEN_INDEXES = {
  assigneeOpen: {
    field: 'assigneeId',
    key: (keys: TenantKeys, owner: string) => keys.index.assigneeOpen(owner),
    everyTicket: (keys: TenantKeys, owner: string) => keys.index.assignee(owner),
  },
  unitOpen: {
    field: 'unitId',
    key: (keys: TenantKeys, owner: string) => keys.index.unitOpen(owner),
    everyTicket: (keys: TenantKeys, owner: string) => keys.index.unit(owner),
  },
} as const;
export type OpenIndexName = keyof typeof OPEN_INDEXES;
const NAMES = Object.keys(OPEN_INDEXES) as OpenIndexName[];

/** Tickets read and indexed per step of a build. */
const BUILD_STEP = 200;
const REMEMBERED = 10_000;

/** Records every open index as built over the tenant's tickets: after a build, or for a new tenant, which has none. */
export async function recordIndexesBuilt(redis: Redis | Cluster, tenantId: string, now: Date): Promise<void> {
  await redis.hset(tenantKeys(tenantId).index.built, ...NAMES.flatMap((name) => [name, now.toISOString()]));
}

/**
 * Indexes added after a deployment already holds tickets. Every write keeps such an index from
 * the version that added it on (store/indexes.ts); the tickets stored before are put in by a
 * build, once per tenant, which a gateway starts in the background for each tenant it finds
 * unbuilt. Until a tenant's build has finished, readers take the index the new one refines
 * (every ticket the person or unit ever had, filtered ticket by ticket): slower, still right.
 */
export class IndexBuilds {
  /** `<tenant> <index>` known built: that never goes back, so it is asked once. */
  private readonly built = new Set<string>();

  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  /** Whether the tenant's index holds every ticket it should. */
  async ready(tenantId: string, name: OpenIndexName): Promise<boolean> {
    if (this.built.has(`${tenantId} ${name}`)) return true;
    const done = (await this.redis.hexists(tenantKeys(tenantId).index.built, name)) === 1;
    if (done) this.remember(tenantId, name);
    return done;
  }

  /** Whether every index is built for the tenant. */
  async allReady(tenantId: string): Promise<boolean> {
    for (const name of NAMES) if (!(await this.ready(tenantId, name))) return false;
    return true;
  }

  /**
   * Puts every unfinished ticket of the tenant into its assignee's and its unit's open indexes,
   * takes out of them what they should not hold, then records the builds. Safe beside live
   * writes and beside another gateway's build of the same tenant: each index is walked with
   * ZSCAN, which returns every member present from start to end (a ticket that moves meanwhile
   * is indexed by its own commit), and each ticket is added, or taken out, only as its stored
   * document says at that moment (redis/scripts/index-open.ts, index-prune.ts). The open
   * indexes looked over for entries to take out are those of the owners of unfinished tickets
   * and of everyone and every unit in the directory. Returns how many entries it made (a ticket
   * with both an assignee and a unit makes two) and how many it took out.
   */
  async build(tenantId: string, now: Date): Promise<{ indexed: number; pruned: number }> {
    const keys = tenantKeys(tenantId);
    const terminal = ` ${TERMINAL_STATUSES.join(' ')} `;
    const [staff, units] = await Promise.all([this.redis.hkeys(keys.staff), this.redis.hkeys(keys.units)]);
    const owners: Record<OpenIndexName, Set<string>> = { assigneeOpen: new Set(staff), unitOpen: new Set(units) };
    let indexed = 0;
    for (const status of TICKET_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s))) {
      await this.walk(keys.index.status(status), async (ids) => {
        indexed += await this.indexStep(keys, ids, terminal, owners);
      });
    }
    let pruned = 0;
    for (const name of NAMES) {
      const { field, key } = OPEN_INDEXES[name];
      for (const owner of owners[name]) {
        const index = key(keys, owner);
        await this.walk(index, async (ids) => {
          pruned += await this.redis.civicloopIndexPrune(1 + ids.length, index, ...ids.map((id) => keys.ticket(id)), terminal, field, owner, ...ids);
        });
      }
    }
    await recordIndexesBuilt(this.redis, tenantId, now);
    for (const name of NAMES) this.remember(tenantId, name);
    return { indexed, pruned };
  }

  /** Every member of a sorted set, BUILD_STEP at a time (ZSCAN: each member present throughout is seen). */
  private async walk(index: string, step: (ids: string[]) => Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(index, cursor, 'COUNT', BUILD_STEP);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) await step(ids);
    } while (cursor !== '0');
  }

  private async indexStep(keys: TenantKeys, ids: string[], terminal: string, owners: Record<OpenIndexName, Set<string>>): Promise<number> {
    const flat = await this.redis.civicloopReadTickets(ids.length, ...ids.map((id) => keys.ticket(id)));
    const pairs: string[] = [];
    const args: (string | number)[] = [terminal];
    ids.forEach((id, i) => {
      const doc = flat[3 * i + 2];
      if (typeof doc !== 'string') return;
      const ticket = JSON.parse(doc) as Pick<Ticket, 'assigneeId' | 'unitId' | 'createdAt'>;
      for (const name of NAMES) {
        const { field, key } = OPEN_INDEXES[name];
        const owner = ticket[field];
        if (!owner) continue;
        owners[name].add(owner);
        pairs.push(keys.ticket(id), key(keys, owner));
        args.push(field, owner, parseIsoTime(ticket.createdAt), id);
      }
    });
    if (pairs.length === 0) return 0;
    return this.redis.civicloopIndexOpen(pairs.length, ...pairs, ...args);
  }

  private remember(tenantId: string, name: OpenIndexName): void {
    if (this.built.size >= REMEMBERED) this.built.clear();
    this.built.add(`${tenantId} ${name}`);
  }
}
