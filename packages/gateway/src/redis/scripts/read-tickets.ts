import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Reads several tickets in one command. A list page reads twenty or more tickets: as a pipeline
 * that is one ioredis command object, promise and reply each, which cost the gateway more than
 * the documents themselves (bench:api's list floor). The keys are declared, so on a cluster a page
 * read while its slot moves is redirected or retried (ASK, TRYAGAIN) as a whole instead of
 * answering the keys not moved yet as missing.
 *
 * Each ticket's revision tag (`r`, stored beside its document by every write) comes back too, and
 * its document only when the tag is not the one the caller already has (store/ticket-read-cache.ts):
 * parsing and serialising a document it has seen before was most of a page's cost.
 *
 * KEYS: the ticket keys (one tenant's, so one slot). ARGV: per key, the revision tag the caller
 * holds ('' or absent: none). Returns, per key in order, its number, its tag and its document
 * (nil when the caller's tag matches); number and document are nil for a ticket that does not
 * exist, the tag nil for one written before tags were stored.
 */
export const readTickets: RedisScript = {
  name: 'civicloopReadTickets',
  lua: `
local out = {}
for i, key in ipairs(KEYS) do
  local fields = redis.call('HMGET', key, 'number', 'r')
  local rev = fields[2]
  out[3 * i - 2] = fields[1]
  out[3 * i - 1] = rev
  if rev and rev == ARGV[i] then
    out[3 * i] = false
  else
    out[3 * i] = redis.call('HGET', key, 'doc')
  end
end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopReadTickets(numKeys: number, ...keysThenRevs: string[]): Result<(string | null)[], Context>;
  }
}
