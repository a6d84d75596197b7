import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Applies a batch only if the cursor is still where the batch started: two projectors never count
 * one event twice. The batch's reports per cell ('' = none) are kept for the black-spot note in
 * the same step, under the new cursor, so that a gateway that stops between the two loses none.
 * KEYS: cursor, black spots pending, attribution keys..., bucket keys... ARGV: expected cursor,
 * new cursor, reports per cell (JSON or ''), attribution count, attributions (JSON)..., then per
 * bucket: field count, field, delta...
 */
export const statsApply: RedisScript = {
  name: 'civicloopStatsApply',
  lua: `
if (redis.call('GET', KEYS[1]) or '0-0') ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
local n = tonumber(ARGV[4])
for i = 1, n do redis.call('SET', KEYS[2 + i], ARGV[4 + i]) end
local a = 5 + n
for b = 3 + n, #KEYS do
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
