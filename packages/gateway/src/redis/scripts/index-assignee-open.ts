import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Puts tickets stored before the assignee-open index existed into it (store/index-builds.ts),
 * each only if its stored document, read here in the same step, still has the assignee the
 * caller read and no terminal status. A commit that moved the ticket after the caller read it
 * has kept the index itself, and an entry added from the stale read would stay there for good.
 *
 * KEYS: pairs of a ticket key and the assignee-open index of the assignee the caller read (one
 * tenant's, so one slot). ARGV[1]: the terminal statuses, each between single spaces (' closed
 * rejected '); then per pair: that assignee's id, the ticket's score (its creation time, ms) and
 * its id. Returns how many of the tickets it indexed (already there or not).
 */
export const indexAssigneeOpen: RedisScript = {
  name: 'civicloopIndexAssigneeOpen',
  lua: `
local indexed = 0
for i = 1, #KEYS, 2 do
  local doc = redis.call('HGET', KEYS[i], 'doc')
  if doc then
    local ticket = cjson.decode(doc)
    local at = (i - 1) / 2 * 3 + 2
    if ticket.assigneeId == ARGV[at] and type(ticket.status) == 'string'
      and not string.find(ARGV[1], ' ' .. ticket.status .. ' ', 1, true) then
      redis.call('ZADD', KEYS[i + 1], ARGV[at + 1], ARGV[at + 2])
      indexed = indexed + 1
    end
  end
end
return indexed
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopIndexAssigneeOpen(numKeys: number, ...keysThenArgs: (string | number)[]): Result<number, Context>;
  }
}
