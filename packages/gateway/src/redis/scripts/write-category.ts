import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Writes one category's definition if it is still at the version the writer read, so two admins
 * changing the same category at once cannot lose one change to the other.
 *
 * KEYS: the tenant's categories hash. ARGV: code, expected version (0: never defined), JSON.
 * Returns the new version, or -1 when the category has moved on.
 */
export const writeCategory: RedisScript = {
  name: 'civicloopWriteCategory',
  lua: `
local current = tonumber(redis.call('HGET', KEYS[1], 'v:' .. ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then return -1 end
redis.call('HSET', KEYS[1], 'c:' .. ARGV[1], ARGV[3], 'v:' .. ARGV[1], current + 1)
return current + 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopWriteCategory(numKeys: 1, key: string, code: string, expectedVersion: string, json: string): Result<number, Context>;
  }
}
