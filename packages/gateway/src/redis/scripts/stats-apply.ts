import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Applies a batch only if the cursor is still where the batch started: two projectors never count
 * one event twice. KEYS: cursor, attribution keys..., bucket keys... ARGV: expected cursor, new
 * cursor, attribution count, attributions (JSON)..., then per bucket: field count, field, delta...
 */
export const statsApply: RedisScript = {
  name: 'civicloopStatsApply',
  lua: `
if (redis.call('GET', KEYS[1]) or '0-0') ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[3])
for i = 1, n do redis.call('SET', KEYS[1 + i], ARGV[3 + i]) end
local a = 4 + n
for b = 2 + n, #KEYS do
  local fields = tonumber(ARGV[a])
  for f = 1, fields do redis.call('HINCRBY', KEYS[b], ARGV[a + f * 2 - 1], ARGV[a + f * 2]) end
  a = a + 1 + fields * 2
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopStatsApply(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
