import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Reads several tickets in one command. A list page reads twenty or more tickets: as a pipeline
 * that is one ioredis command object, promise and reply each, which cost the gateway more than
 * the documents themselves (bench:api's list floor). The keys are declared, so on a cluster a page
 * read while its slot moves is redirected or retried (ASK, TRYAGAIN) as a whole instead of
 * answering the keys not moved yet as missing.
 *
 * Each ticket's revision tag (`r`, stored beside its document by every write) is compared with the
 * one the caller holds (store/ticket-read-cache.ts): parsing and serialising a document it has seen
 * before was most of a page's cost. A ticket still at the caller's tag comes back as the integer 1
 * alone: no number (it never changes once drawn), no tag, no document, so reading a page the
 * gateway has cached gives it no strings to decode; the tags travel as one argument, not one each.
 *
 * KEYS: the ticket keys (one tenant's, so one slot). ARGV[1]: the tags the caller holds, one per
 * key in order, joined by single spaces, '' for a key it holds none for (absent: none at all;
 * the tags the gateway writes hold no space, and it caches no ticket whose tag does). Returns,
 * per key in order, three values: nil, 1 and nil when the stored tag is the caller's; otherwise
 * its number, its tag and its document, where number and document are nil for a ticket that does
 * not exist and the tag nil for one written before tags were stored.
 */
export const readTickets: RedisScript = {
  name: 'civicloopReadTickets',
  lua: `
local out = {}
local held = ARGV[1] or ''
local from = 1
for i, key in ipairs(KEYS) do
  local stop = string.find(held, ' ', from, true)
  local mine = string.sub(held, from, (stop or 0) - 1)
  from = stop and stop + 1 or #held + 2
  local fields = redis.call('HMGET', key, 'number', 'r')
  local rev = fields[2]
  if rev and mine ~= '' and rev == mine then
    out[3 * i - 2] = false
    out[3 * i - 1] = 1
    out[3 * i] = false
  else
    out[3 * i - 2] = fields[1]
    out[3 * i - 1] = rev
    out[3 * i] = redis.call('HGET', key, 'doc')
  end
end
return out
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopReadTickets(numKeys: number, ...keysThenHeldTags: string[]): Result<(string | 1 | null)[], Context>;
  }
}
