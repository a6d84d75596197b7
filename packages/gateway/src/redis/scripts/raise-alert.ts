import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Writes an alert once: the marker (device, type, alarm, time) is set with the stream entry and
 * the recent alerts' list in one step, so a redelivered message neither loses nor repeats it.
 * KEYS: marker, events, recent alerts. ARGV: marker ttl seconds, stream max length, alert json
 * (an object), recent alerts kept.
 */
export const raiseAlert: RedisScript = {
  name: 'civicloopRaiseAlert',
  lua: `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'a', ARGV[3])
redis.call('LPUSH', KEYS[3], '{"streamId":"' .. id .. '","alert":' .. ARGV[3] .. '}')
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopRaiseAlert(numKeys: number, ...args: string[]): Result<number, Context>;
  }
}
