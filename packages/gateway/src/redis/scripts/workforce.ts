import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Marks workers present on a day, each once: a member new to the day's set adds one to its
 * unit's `present` counter, and the unit's roster is raised to at least that.
 * KEYS: day's counters, day's present set. ARGV: set ttl ms, then per worker: unit, staff id.
 */
export const markPresent: RedisScript = {
  name: 'civicloopMarkPresent',
  lua: `
for i = 2, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[i] .. '|' .. ARGV[i + 1]) == 1 then
    local present = redis.call('HINCRBY', KEYS[1], 'present|' .. ARGV[i], 1)
    local roster = tonumber(redis.call('HGET', KEYS[1], 'roster|' .. ARGV[i]) or '0')
    if roster < present then redis.call('HSET', KEYS[1], 'roster|' .. ARGV[i], present) end
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`,
};

/**
 * One sample of the day: each unit's roster is raised to its current number of workers (so it
 * is the largest the unit had that day), and each unit's vehicles are counted, online or not.
 * KEYS: day's counters. ARGV: roster pair count, (unit, workers)..., then (unit, vehicles, online)...
 */
export const workforceSample: RedisScript = {
  name: 'civicloopWorkforceSample',
  lua: `
local pairs = tonumber(ARGV[1])
for i = 2, 1 + pairs * 2, 2 do
  local roster = tonumber(redis.call('HGET', KEYS[1], 'roster|' .. ARGV[i]) or '0')
  if roster < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], 'roster|' .. ARGV[i], ARGV[i + 1]) end
end
for i = 2 + pairs * 2, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[1], 'vehicleSamples|' .. ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[1], 'vehiclesOnline|' .. ARGV[i], ARGV[i + 2])
end
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopMarkPresent(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
    civicloopWorkforceSample(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
