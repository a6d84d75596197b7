import type { ClientContext, Result } from 'ioredis';
import type { RedisScript } from './script.js';

/**
 * The write for a new ticket, the most frequent write of all, as a script of its own: fixed
 * arguments instead of the general commit script's op list. Same guarantees: all or nothing,
 * idempotency key checked and set inside. The likely-duplicate search runs here too, before the
 * ticket joins the open-tickets-by-place index: one command per report instead of two.
 *
 * KEYS: sequence, numbers, ticket, history, events, idempotency ('' slot unused when none),
 *       open tickets of the category by place, indexes...
 * ARGV: day, prefix, ticketId, doc, event, parties, streamMaxLen, idempotency value ('' = none),
 *       idempotency ttl ms, search radius m (0 = no search), lon, lat, search count, the
 *       document's revision tag (store/ticket-read-cache.ts), then one score per index key.
 * Returns {'ok', number, streamId, {{id, distance}...}} or {'replay', stored idempotency value}.
 */
export const createTicket: RedisScript = {
  name: 'civicloopCreate',
  lua: `
local idem = ARGV[8]
if idem ~= '' then
  local existing = redis.call('GET', KEYS[6])
  if existing then return {'replay', existing} end
end
local near = {}
if ARGV[10] ~= '0' then
  near = redis.call('GEOSEARCH', KEYS[7], 'FROMLONLAT', ARGV[11], ARGV[12], 'BYRADIUS', ARGV[10], 'm', 'COUNT', ARGV[13], 'ANY', 'WITHDIST')
end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local number = ARGV[2] .. string.format('%04d', n)
redis.call('HSET', KEYS[2], number, ARGV[3])
redis.call('HSET', KEYS[3], 'doc', ARGV[4], 'v', '1', 'r', ARGV[14], 'number', number)
redis.call('RPUSH', KEYS[4], ARGV[5])
for k = 8, #KEYS do redis.call('ZADD', KEYS[k], ARGV[k + 7], ARGV[3]) end
local streamId = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[5], 'n', number, 'p', ARGV[6])
if idem ~= '' then redis.call('SET', KEYS[6], idem, 'PX', ARGV[9]) end
return {'ok', number, streamId, near}
`,
};

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopCreate(numKeys: number, ...args: string[]): Result<[string, string, string?, [string, string][]?], Context>;
  }
}
