import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Notes one counted batch's reports, all cells in one call. A cell with an open spot adds to the
 * spot's activity (count and newest ticket, kept beside the record so an inspection rewriting the
 * record cannot lose them). Otherwise the cell's days outside the window are pruned, the rest
 * summed, and at the threshold the cell is coded: slot, record and activity land together.
 * A batch is noted once: only while it is pending (civicloopStatsApply keeps it), which this
 * ends. Another gateway that finishes a batch this one left half done makes the second call a
 * no-op (returns false).
 *
 * KEYS: open spots by cell, records, code sequence, activity, pending batches, then one day-count
 * hash per cell.
 * ARGV: threshold, cell key ttl ms, code prefix, the batch (its last stream id), then per cell:
 * cell, count, at, first day of its window, month, record template ("__CODE__" and "__TOTAL__"
 * filled in here).
 */
export const blackSpotNote: RedisScript = {
  name: 'civicloopBlackSpotNote',
  lua: `
if redis.call('HDEL', KEYS[5], ARGV[4]) == 0 then return false end
local threshold = tonumber(ARGV[1])
local opened = {}
for c = 6, #KEYS do
  local a = 5 + (c - 6) * 6
  local cell, count, at, firstDay, month = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local cellKey = KEYS[c]
  redis.call('PEXPIRE', cellKey, ARGV[2])
  local code = redis.call('HGET', KEYS[1], cell)
  if code then
    redis.call('HINCRBY', KEYS[4], code .. ':n', count)
    local last = redis.call('HGET', KEYS[4], code .. ':at')
    if (not last) or last < at then redis.call('HSET', KEYS[4], code .. ':at', at) end
  else
    local days = redis.call('HGETALL', cellKey)
    local total = 0
    for i = 1, #days, 2 do
      if days[i] < firstDay then redis.call('HDEL', cellKey, days[i]) else total = total + tonumber(days[i + 1]) end
    end
    if total >= threshold then
      local n = redis.call('HINCRBY', KEYS[3], month, 1)
      code = ARGV[3] .. month .. '-' .. string.format('%03d', n)
      redis.call('HSET', KEYS[1], cell, code)
      local doc = string.gsub(string.gsub(ARGV[a + 5], '__CODE__', code), '"__TOTAL__"', tostring(total))
      redis.call('HSET', KEYS[2], code, doc)
      redis.call('HSET', KEYS[4], code .. ':n', 0, code .. ':at', at)
      opened[#opened + 1] = code
    end
  end
end
return opened
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopBlackSpotNote(numKeys: number, ...args: (string | number)[]): Result<string[] | null, Context>;
  }
}
