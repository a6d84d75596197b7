import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * The whole search in one script, so a dispatch waits for one round trip however many rings and
 * pages it takes. Rings: GEOSEARCH examines every member inside its radius, so the search starts
 * with a small circle and widens it only when that holds fewer suitable wearers than asked for;
 * within a ring, candidates are read nearest first in growing pages.
 *
 * KEYS: live badge positions, on-duty badges, device records.
 * ARGV: lon, lat, radius m, first ring m, unit ('' = any), how many, then the skills every match
 * must have. Returns {device JSON, distance, device JSON, distance, ...}, nearest first, possibly empty.
 */
export const nearestWorkers: RedisScript = {
  name: 'civicloopNearestWorkers',
  lua: `
local lon, lat, maxRadius, unit, wanted = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[5], tonumber(ARGV[6])
local function suitable(raw)
  local d = cjson.decode(raw)
  if d.disabled == true or type(d.staffId) ~= 'string' then return false end
  if unit ~= '' and d.unitId ~= unit then return false end
  local has = {}
  for _, skill in ipairs(d.skills or {}) do has[skill] = true end
  for i = 7, #ARGV do if not has[ARGV[i]] then return false end end
  return true
end
local radius = math.min(tonumber(ARGV[4]), maxRadius)
while true do
  local seen, count, out = 0, 16, {}
  while #out < wanted * 2 do
    local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', lon, lat, 'BYRADIUS', radius, 'm', 'ASC', 'COUNT', count, 'WITHDIST')
    for i = seen + 1, #found do
      local id = found[i][1]
      if redis.call('HEXISTS', KEYS[2], id) == 1 then
        local raw = redis.call('HGET', KEYS[3], id)
        if raw and suitable(raw) then
          out[#out + 1] = raw
          out[#out + 1] = found[i][2]
          if #out == wanted * 2 then return out end
        end
      end
    end
    if #found < count then break end
    seen, count = #found, count * 8
  end
  if radius >= maxRadius then return out end
  radius = math.min(radius * 4, maxRadius)
end
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopNearestWorkers(numKeys: number, ...args: (string | number)[]): Result<string[], Context>;
  }
}
