import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Takes out of an owner's open index (an assignee's, a unit's unfinished tickets) the entries it
 * should not hold: a ticket whose stored document, read here in the same step, is gone, finished
 * or no longer that owner's. Such entries are what a gateway from before the open indexes leaves
 * when it finishes or moves a ticket during a rolling upgrade (store/index-builds.ts). An entry
 * whose document still names the owner and is unfinished stays, whatever the caller read.
 *
 * KEYS[1]: the open index; then the ticket key of each entry looked at (one tenant's, so one slot).
 * ARGV[1]: the terminal statuses, each between single spaces (' closed rejected '); ARGV[2]: the
 * document's field that names the owner ('assigneeId' or 'unitId'); ARGV[3]: the owner's id; then
 * the ticket id of each entry, in KEYS' order. Returns how many entries it took out.
 */
export const indexPrune: RedisScript = {
  name: 'civicloopIndexPrune',
  lua: `
local pruned = 0
for i = 2, #KEYS do
  local doc = redis.call('HGET', KEYS[i], 'doc')
  local ticket = doc and cjson.decode(doc) or false
  local belongs = ticket and ticket[ARGV[2]] == ARGV[3] and type(ticket.status) == 'string'
    and not string.find(ARGV[1], ' ' .. ticket.status .. ' ', 1, true)
  if not belongs then pruned = pruned + redis.call('ZREM', KEYS[1], ARGV[2 + i]) end
end
return pruned
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopIndexPrune(numKeys: number, ...keysThenArgs: (string | number)[]): Result<number, Context>;
  }
}
