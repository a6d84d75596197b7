import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Takes what is due in a sorted set scored by time, by moving each member's score to the end of
 * a lease in the same script: no other process takes it meanwhile, and if the taker dies the
 * member becomes due again when the lease runs out. The taker sets the real next time (or removes
 * the member) when done.
 *
 * KEYS: the sorted set (a tenant's timers or webhook deliveries due). ARGV: now (score, ms), lease
 * end (ms), most members to take. Returns the members taken.
 */
export const leaseClaim: RedisScript = {
  name: 'civicloopLeaseClaim',
  lua: `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return ids
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopLeaseClaim(numKeys: number, ...args: (string | number)[]): Result<string[], Context>;
  }
}
