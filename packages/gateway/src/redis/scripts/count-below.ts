import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Adds one to a hash field's count only while it is below a limit: of requests racing for the
 * last places (devices provisioned by a profile near its maxDevices), exactly as many as there
 * are places get one.
 *
 * KEYS: the hash. ARGV: the field, the limit ('' for none). Returns the new count, or -1 when the
 * count had reached the limit (nothing written).
 */
export const countBelow: RedisScript = {
  name: 'civicloopCountBelow',
  lua: `
if ARGV[2] ~= '' and tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') >= tonumber(ARGV[2]) then return -1 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopCountBelow(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
