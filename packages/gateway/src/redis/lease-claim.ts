import type { Redis, Cluster } from 'ioredis';

/**
 * Members of `key` due at `now` (at most `limit`), now leased until `leaseUntil`: the script
 * redis/scripts/lease-claim.ts, registered with the others (registerScripts).
 */
export function claimDue(redis: Redis | Cluster, key: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
  return redis.civicloopLeaseClaim(1, key, now, leaseUntil, limit);
}
