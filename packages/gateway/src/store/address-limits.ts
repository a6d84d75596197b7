import type { Cluster, Redis } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';
import { globalKeys } from '../redis/keys.js';

const WINDOW_MS = 60_000;

export interface AddressLimitOptions {
  /** Failed authentications a minute one address may make, counted across gateways (0: no limit). */
  authFailuresPerMinute: number;
  /** Requests a minute one address may make to routes that need no key, across gateways (0: no limit). */
  keylessPerMinute: number;
}

/**
 * Limits per client address that hold across gateways, counted in Redis (fixed one-minute
 * windows, one INCR per counted event): failed authentications (HTTP 401s, refused MQTT
 * CONNECTs, bad Open311 api_keys) and requests to routes that need no key. Once an address is
 * over its failure limit, this gateway refuses it from memory until the window ends, with no
 * Redis round trip; requests that authenticate never touch Redis here.
 */
export class AddressLimits {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: AddressLimitOptions,
    /** The gateway's clock (ms), which tests move; the windows are minutes of it. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws CL_ERR_RATE_LIMITED when the address is over its failed-authentication limit. */
  assertNotBlocked(address: string, now = this.clock()): void {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return;
    if (until <= now) {
      this.blockedUntil.delete(address);
      return;
    }
    const wait = Math.ceil((until - now) / 1000);
    throw new CivicLoopError('CL_ERR_RATE_LIMITED', `Too many failed authentications from this address; wait ${wait} s.`, { retryAfterSeconds: wait });
  }

  isBlocked(address: string, now = this.clock()): boolean {
    return (this.blockedUntil.get(address) ?? 0) > now;
  }

  /**
   * Counts a failed authentication. At the limit, this gateway refuses the address from memory
   * until the window ends; past it (the count is shared, so another gateway may have made it),
   * the failure itself is answered as rate limited: returns the seconds to wait, or undefined.
   */
  async noteAuthFailure(address: string, now = this.clock()): Promise<number | undefined> {
    const limit = this.options.authFailuresPerMinute;
    if (limit <= 0) return undefined;
    const { count, windowEnds } = await this.count('authfail', address, now);
    if (count >= limit) {
      this.blockedUntil.set(address, windowEnds);
      if (this.blockedUntil.size > 100_000) this.blockedUntil.delete(this.blockedUntil.keys().next().value!);
    }
    return count > limit ? Math.ceil((windowEnds - now) / 1000) : undefined;
  }

  /** Counts a request to a keyless route; throws CL_ERR_RATE_LIMITED over the limit. */
  async countKeyless(address: string, now = this.clock()): Promise<void> {
    const limit = this.options.keylessPerMinute;
    if (limit <= 0) return;
    const { count, windowEnds } = await this.count('keyless', address, now);
    if (count > limit) {
      const wait = Math.ceil((windowEnds - now) / 1000);
      throw new CivicLoopError('CL_ERR_RATE_LIMITED', `More than ${limit} requests a minute from this address to routes without a key; wait ${wait} s.`, {
        retryAfterSeconds: wait,
      });
    }
  }

  private async count(scope: string, address: string, now: number): Promise<{ count: number; windowEnds: number }> {
    const window = Math.floor(now / WINDOW_MS);
    const key = globalKeys.addressCount(scope, address, window);
    const [[, count]] = ((await this.redis
      .multi()
      .incr(key)
      .pexpire(key, 2 * WINDOW_MS)
      .exec()) ?? [[null, 0]]) as [[Error | null, number]];
    return { count: Number(count), windowEnds: (window + 1) * WINDOW_MS };
  }
}
