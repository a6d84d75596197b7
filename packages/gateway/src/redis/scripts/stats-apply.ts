import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Applies a batch only if the cursor is still where the batch started: two projectors never count
 * one event twice. The batch's reports per cell ('' = none) are kept for the black-spot note in
 * the same step, under the new cursor, so that a gateway that stops between the two loses none.
 * All or nothing: a Redis script is not undone when a command in it fails, so the counters, the
 * only writes that can fail (a key damaged by hand: another type, a field that is no integer), go
 * first, and those already made are taken back before the error is returned; the attributions and
 * the cursor are written only after. A failed batch thus leaves every count, attribution and the
 * cursor as they were (a counter field taken back to 0 is removed: absent counts as 0), and is
 * counted whole once the key is mended.
 * KEYS: cursor, black spots pending, attribution keys..., bucket keys... ARGV: expected cursor,
 * new cursor, reports per cell (JSON or ''), attribution count, attributions (JSON)..., then per
 * bucket: field count, field, delta...
 */
export const statsApply: RedisScript = {
  name: 'civicloopStatsApply',
  lua: `
if (redis.call('GET', KEYS[1]) or '0-0') ~= ARGV[1] then return 0 end
local pending = redis.call('TYPE', KEYS[2]).ok
if ARGV[3] ~= '' and pending ~= 'hash' and pending ~= 'none' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' holds a ' .. pending .. ', not a hash')
end
local n = tonumber(ARGV[4])
local made = {}
local a = 5 + n
for b = 3 + n, #KEYS do
  local fields = tonumber(ARGV[a])
  for f = 1, fields do
    local field, by = ARGV[a + f * 2 - 1], ARGV[a + f * 2]
    local result = redis.pcall('HINCRBY', KEYS[b], field, by)
    if type(result) == 'table' and result.err then
      for m = #made, 1, -1 do
        local key, made_field, made_by = made[m][1], made[m][2], made[m][3]
        if redis.call('HINCRBY', key, made_field, -made_by) == 0 then redis.call('HDEL', key, made_field) end
      end
      return redis.error_reply(result.err .. ' (' .. KEYS[b] .. ')')
    end
    made[#made + 1] = {KEYS[b], field, tonumber(by)}
  end
  a = a + 1 + fields * 2
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
for i = 1, n do redis.call('SET', KEYS[2 + i], ARGV[4 + i]) end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopStatsApply(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
