import { applyDueMilestone, nextMilestone } from '@civicloop/model';
import { PollingLoop } from '../core/polling-loop.js';
import type { Services } from '../core/services.js';

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
  private readonly loop: PollingLoop;

  constructor(
    private readonly services: Services,
    log: { warn(obj: object, msg: string): void },
  ) {
    this.loop = new PollingLoop('deadline scheduler pass', () => this.runOnce(), log);
  }

  start(): void {
    this.loop.start(this.services.config.schedulerPollMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass over every tenant; returns how many warnings and escalations were written. */
  async runOnce(): Promise<number> {
    let written = 0;
    for (const tenantId of await this.services.tenants.ids()) {
      const now = this.services.now().getTime();
      const lease = now + LEASE_MS;
      const ids = await this.services.tickets.claimDueTimers(tenantId, now, lease, BATCH);
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
        await tickets.settleTimer(tenantId, id, lease, next?.at);
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
