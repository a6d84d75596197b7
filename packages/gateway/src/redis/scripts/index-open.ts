import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Puts tickets stored before the open indexes existed (an assignee's, a unit's unfinished
 * tickets) into them (store/index-builds.ts), each only if its stored document, read here in the
 * same step, still names the owner the caller read and has no terminal status. A commit that
 * moved the ticket after the caller read it has kept the indexes itself, and an entry added from
 * the stale read would stay there for good.
 *
 * KEYS: pairs of a ticket key and the open index of the owner the caller read (one tenant's, so
 * one slot; a ticket may come in two pairs, for its assignee and its unit). ARGV[1]: the terminal
 * statuses, each between single spaces (' closed rejected '); then per pair: the document's field
 * that names the owner ('assigneeId' or 'unitId'), the owner's id, the ticket's score (its
 * creation time, ms) and its id. Returns how many pairs it indexed (already there or not).
 */
export const indexOpen: RedisScript = {
  name: 'civicloopIndexOpen',
  lua: `
local indexed = 0
local decoded = {}
for i = 1, #KEYS, 2 do
  local ticket = decoded[KEYS[i]]
  if ticket == nil then
    local doc = redis.call('HGET', KEYS[i], 'doc')
    ticket = doc and cjson.decode(doc) or false
    decoded[KEYS[i]] = ticket
  end
  local at = (i - 1) * 2 + 2
  if ticket and ticket[ARGV[at]] == ARGV[at + 1] and type(ticket.status) == 'string'
    and not string.find(ARGV[1], ' ' .. ticket.status .. ' ', 1, true) then
    redis.call('ZADD', KEYS[i + 1], ARGV[at + 2], ARGV[at + 3])
    indexed = indexed + 1
  end
end
return indexed
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopIndexOpen(numKeys: number, ...keysThenArgs: (string | number)[]): Result<number, Context>;
  }
}
