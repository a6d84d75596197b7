import type { Redis, Cluster } from 'ioredis';
import { globalKeys, tenantKeys } from '../redis/keys.js';

/**
 * Marks devices that went quiet offline; any gateway may run it, it is idempotent. Each pass
 * looks only at devices that crossed the threshold since the previous pass (the first pass, at
 * start-up, at all of them), not at every device that has been quiet for days. Run on the
 * shared PollingLoop, so passes never overlap.
 */
export class OfflineSweep {
  private previousCutoff = '-inf';

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly offlineSeconds: number,
  ) {}

  async run(): Promise<void> {
    const cutoff = Date.now() - this.offlineSeconds * 1000;
    for (const tenantId of await this.redis.smembers(globalKeys.tenants)) {
      const keys = tenantKeys(tenantId);
      const quiet = await this.redis.zrangebyscore(keys.lastSeen, this.previousCutoff === '-inf' ? '-inf' : `(${this.previousCutoff}`, cutoff);
      if (quiet.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const id of quiet) pipeline.hset(keys.deviceState(id), 'online', '0');
      await pipeline.exec();
    }
    this.previousCutoff = String(cutoff);
  }
}
