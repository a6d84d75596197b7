import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Stores a tenant's batch of positions in one script, device by device. Per record: skip it if
 * this fix time was already stored for the device (QoS 1 and batch uploads redeliver); else
 * append it to the device's capped track. Then, if the device's newest valid fix of the batch is
 * newer than the stored one, move it on the live map, in its last state and onto the tenant's
 * position stream (what the live map's SSE reads); mark it seen. Returns 1 (stored) or
 * 0 (duplicate) per record, device by device in the order given.
 *
 * KEYS: lastSeen, positions, then per device: seen, track, state, live.
 * ARGV: trackMaxLen, seenKeep, now, then per device: deviceId, record count, position of its
 *       newest valid record among them (1-based, 0 = none), that record's lon, lat, then per
 *       record: fixTime, json.
 */
export const positions: RedisScript = {
  name: 'civicloopPositions',
  lua: `
local trackMax, seenKeep, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
local a = 4
for k = 3, #KEYS, 4 do
  local seen, track, state, live = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local id, count, newest, lon, lat = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4]
  a = a + 5
  for r = 0, count - 1 do
    local fix, json = ARGV[a + r * 2], ARGV[a + r * 2 + 1]
    if redis.call('ZADD', seen, 'NX', fix, fix) == 0 then
      out[#out + 1] = 0
    else
      -- Trim now and then, not on every write: the set only has to remember recent fixes.
      if tonumber(fix) % 64 == 0 then redis.call('ZREMRANGEBYRANK', seen, 0, -seenKeep - 1) end
      redis.call('XADD', track, 'MAXLEN', '~', trackMax, '*', 'p', json)
      out[#out + 1] = 1
    end
  end
  local fix = newest > 0 and ARGV[a + (newest - 1) * 2] or nil
  if fix and tonumber(fix) > tonumber(redis.call('HGET', state, 'fixTime') or '0') then
    local json = ARGV[a + (newest - 1) * 2 + 1]
    redis.call('GEOADD', live, lon, lat, id)
    redis.call('HSET', state, 'fixTime', fix, 'position', json, 'lastSeen', now, 'online', '1')
    -- The live map wants where each device is now, not every fix of the batch.
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'p', json)
  else
    redis.call('HSET', state, 'lastSeen', now, 'online', '1')
  end
  redis.call('ZADD', KEYS[1], now, id)
  a = a + count * 2
end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopPositions(numKeys: number, ...args: string[]): Result<number[], Context>;
  }
}
