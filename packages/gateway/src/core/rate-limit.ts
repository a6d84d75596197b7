import { CivicLoopError } from '@civicloop/model';

/**
 * Fixed one-minute windows counted in this process. Two limits apply to each request: one per
 * credential (key, the token's subject, or a device on its HTTP protocols) and one per client address. With several gateways
 * behind a load balancer each counts on its own, so the effective limit is the per-gateway
 * limit times the number of gateways (docs/security.md); no Redis round trip is spent on it.
 */
export class RateLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly perCredential: number,
    private readonly perAddress: number,
    /** The gateway's clock (ms), which tests move; the windows are minutes of it. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws CL_ERR_RATE_LIMITED (with seconds to wait) when either limit is exceeded. */
  check(credential: string, address: string, now = this.clock()): void {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const retryAfter = Math.ceil(((window + 1) * 60_000 - now) / 1000);
    for (const [key, limit] of [
      [`c:${credential}`, this.perCredential],
      [`a:${address}`, this.perAddress],
    ] as const) {
      if (limit <= 0) continue;
      const count = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, count);
      if (count > limit) {
        throw new CivicLoopError(
          'CL_ERR_RATE_LIMITED',
          `More than ${limit} requests a minute from this ${key.startsWith('c:') ? 'key, user or device' : 'address'}; wait ${retryAfter} s.`,
          { retryAfterSeconds: retryAfter },
        );
      }
    }
  }
}
