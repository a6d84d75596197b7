import type { Services } from '../core/services.js';

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/**
 * Builds, in the background of a starting gateway, the indexes added after tickets were stored
 * (store/index-builds.ts) for every tenant that lacks them, or for every tenant with
 * REBUILD_INDEXES. Until a tenant's build is done, its lists take the slower way, so a failure
 * (Redis away, say) is logged and the whole pass tried again, later each time, until it is done
 * or the gateway stops; tenants already built are passed over.
 */
export class IndexBuildAtStart {
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly services: Services,
    private readonly rebuild: boolean,
    private readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once the build is done, or given up because the gateway stops. */
  finished(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let pending: Set<string> | undefined;
    for (let wait = FIRST_RETRY_MS; !this.stopped; wait = Math.min(wait * 2, LAST_RETRY_MS)) {
      try {
        pending ??= new Set(await this.tenantsToBuild());
        for (const tenantId of pending) {
          if (this.stopped) return;
          const { indexed, pruned } = await this.services.tickets.indexBuilds.build(tenantId, this.services.now());
          pending.delete(tenantId);
          this.log.info({ tenantId, indexed, pruned }, "built the indexes of each assignee's and each unit's unfinished tickets");
        }
        return;
      } catch (error) {
        if (this.stopped) return;
        this.log.warn({ err: error, tenantsLeft: pending?.size }, `index build failed; trying again in ${wait} ms`);
        await this.pause(wait);
      }
    }
  }

  private async tenantsToBuild(): Promise<string[]> {
    const ids = await this.services.tenants.ids();
    if (this.rebuild) return ids;
    const ready = await Promise.all(ids.map((id) => this.services.tickets.indexBuilds.allReady(id)));
    return ids.filter((_, i) => !ready[i]);
  }

  /** Waits before the next try; stop() cuts the wait short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
