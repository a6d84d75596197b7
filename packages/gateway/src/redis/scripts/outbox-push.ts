import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * Puts a command in a device's outbox as the latest word on its ticket: entries still waiting
 * there about the same ticket (an assignment not yet received, when the ticket is withdrawn or
 * assigned again) are dropped in the same step, so a device that comes back is not sent what
 * the newer command overrides. Then the outbox is trimmed to its newest entries.
 *
 * KEYS: the outbox (a list, newest first). ARGV: the entry (JSON), its command's ticket id (empty
 * when it is about no ticket), how many entries to keep. Returns how many entries were dropped.
 */
export const outboxPush: RedisScript = {
  name: 'civicloopOutboxPush',
  lua: `
local dropped = 0
if ARGV[2] ~= '' then
  for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local ok, entry = pcall(cjson.decode, raw)
    if ok and type(entry) == 'table' and type(entry.command) == 'table' and entry.command.ticketId == ARGV[2] then
      dropped = dropped + redis.call('LREM', KEYS[1], 1, raw)
    end
  end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return dropped
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopOutboxPush(numKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}
