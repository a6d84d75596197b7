import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Reads several tickets' documents and numbers in one command. A list page reads twenty or more
 * tickets: as a pipeline that is one ioredis command object, promise and reply each, which cost
 * the gateway more than the documents themselves (bench:api's list floor). The keys are declared,
 * so on a cluster a page read while its slot moves is redirected or retried (ASK, TRYAGAIN) as a
 * whole instead of answering the keys not moved yet as missing.
 *
 * KEYS: the ticket keys (one tenant's, so one slot). ARGV: none. Returns, per key in order, its
 * document and its number (nil for a ticket that does not exist).
 */
export const readTickets: RedisScript = {
  name: 'civicloopReadTickets',
  lua: `
local out = {}
for i, key in ipairs(KEYS) do
  local fields = redis.call('HMGET', key, 'doc', 'number')
  out[2 * i - 1] = fields[1]
  out[2 * i] = fields[2]
end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopReadTickets(numKeys: number, ...keys: string[]): Result<(string | null)[], Context>;
  }
}
