import type { Redis, Cluster, ClientContext, Result } from 'ioredis';
import { applyDueMilestone, nextMilestone } from '@civicloop/model';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { Services } from '../services.js';

type Client = Redis | Cluster;

/** Due tickets, leased: their score moves past the lease so no other scheduler takes them meanwhile. */
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
`;

/** Puts a claimed ticket back at its true next time, unless a commit has rescheduled it meanwhile. */
const SETTLE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopTimersClaim(numKeys: number, ...args: (string | number)[]): Result<string[], Context>;
    civicloopTimersSettle(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}

const BATCH = 200;
const LEASE_MS = 30_000;

/**
 * Deadline warnings and escalations. Every commit keeps each watched ticket's next milestone in
 * the tenant's timers index (with the ticket, atomically), so the schedule survives restarts and
 * needs no separate bookkeeping. A pass claims the due tickets with a lease, and writes each
 * milestone as an event through the usual version-checked commit: two schedulers racing on one
 * ticket write it once, and one that dies leaves its claims to be taken after the lease.
 */
export class DeadlineScheduler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly services: Services,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {
    services.redis.defineCommand('civicloopTimersClaim', { lua: CLAIM });
    services.redis.defineCommand('civicloopTimersSettle', { lua: SETTLE });
  }

  private get redis(): Client {
    return this.services.redis;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.pass = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn({ err: error }, 'deadline scheduler pass failed; retrying'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.services.config.schedulerPollMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  /** One pass over every tenant; returns how many warnings and escalations were written. */
  async runOnce(): Promise<number> {
    let written = 0;
    for (const tenantId of await this.redis.smembers(globalKeys.tenants)) {
      const key = tenantKeys(tenantId).index.timers;
      const now = this.services.now().getTime();
      const lease = now + LEASE_MS;
      const ids = await this.redis.civicloopTimersClaim(1, key, now, lease, BATCH);
      for (const id of ids) written += await this.fire(tenantId, id, lease);
    }
    return written;
  }

  private async fire(tenantId: string, id: string, lease: number): Promise<number> {
    const { tickets } = this.services;
    let written = 0;
    // A few rounds: several milestones may be due at once, and a concurrent command may win a round.
    for (let round = 0; round < 5; round++) {
      const ticket = await tickets.get(tenantId, id);
      const due = ticket && applyDueMilestone(ticket, this.services.now());
      if (!ticket || !due) {
        const next = ticket ? nextMilestone(ticket) : undefined;
        await this.redis.civicloopTimersSettle(1, tenantKeys(tenantId).index.timers, id, lease, next ? next.at : '');
        return written;
      }
      try {
        await tickets.apply(tenantId, [{ before: ticket, after: due.ticket, event: due.event }]);
        written++;
      } catch (error) {
        if ((error as { code?: string }).code !== 'CL_ERR_VERSION_CONFLICT') throw error;
      }
    }
    return written;
  }
}
