import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Deletes a hash field only while it still holds the given value: a link (a badge or vehicle to
 * the person it is now linked to, a card's number to its driver) is removed by whoever made it,
 * never after someone else has pointed it elsewhere.
 *
 * KEYS: the hash. ARGV: the field, the value it must hold. Returns 1 if it was deleted, else 0.
 */
export const hashDeleteIf: RedisScript = {
  name: 'civicloopHashDeleteIf',
  lua: `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopHashDeleteIf(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
