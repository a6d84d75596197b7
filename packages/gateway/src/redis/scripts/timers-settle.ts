import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Puts a claimed ticket back at its true next time, unless a commit has rescheduled it meanwhile.
 *
 * KEYS: the tenant's timers sorted set. ARGV: ticket id, the lease score it was claimed with,
 * its next time ('' = none: removed). Returns 1 when settled, 0 when a commit moved it first.
 */
export const timersSettle: RedisScript = {
  name: 'civicloopTimersSettle',
  lua: `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopTimersSettle(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
