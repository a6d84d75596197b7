import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Creates a delivery once: its id is derived from the event and the endpoint, so a re-read stream
 * entry adds nothing.
 *
 * KEYS: the delivery hash, the tenant's due set, the endpoint's delivery log. ARGV: payload JSON,
 * webhook id, type, created at (ISO), due at (ms), delivery id, log length kept. Returns 1 when
 * created, 0 when it existed.
 */
export const webhookEnqueue: RedisScript = {
  name: 'civicloopWebhookEnqueue',
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'webhookId', ARGV[2], 'type', ARGV[3], 'createdAt', ARGV[4],
  'state', 'pending', 'attempts', '[]', 'nextAttemptAt', ARGV[4])
redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[6])
redis.call('LPUSH', KEYS[3], ARGV[6])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[7]) - 1)
return 1
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopWebhookEnqueue(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
