import type { ClientContext, Cluster, Redis, Result } from 'ioredis';
import { defineScript } from './define-script.js';

/**
 * The write for a new ticket, the most frequent write of all, as a script of its own: fixed
 * arguments instead of the general commit script's op list. Same guarantees: all or nothing,
 * idempotency key checked and set inside. The likely-duplicate search runs here too, before the
 * ticket joins the open-tickets-by-place index: one command per report instead of two.
 *
 * KEYS: sequence, numbers, ticket, history, events, idempotency ('' slot unused when none),
 *       open tickets of the category by place, indexes...
 * ARGV: day, prefix, ticketId, doc, event, parties, streamMaxLen, idempotency value ('' = none),
 *       idempotency ttl ms, search radius m (0 = no search), lon, lat, search count, then one
 *       score per index key.
 * Returns {'ok', number, streamId, {{id, distance}...}} or {'replay', stored idempotency value}.
 */
const LUA = `
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
redis.call('HSET', KEYS[3], 'doc', ARGV[4], 'v', '1', 'number', number)
redis.call('RPUSH', KEYS[4], ARGV[5])
for k = 8, #KEYS do redis.call('ZADD', KEYS[k], ARGV[k + 6], ARGV[3]) end
local streamId = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[5], 'n', number, 'p', ARGV[6])
if idem ~= '' then redis.call('SET', KEYS[6], idem, 'PX', ARGV[9]) end
return {'ok', number, streamId, near}
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopCreate(numKeys: number, ...args: string[]): Result<[string, string, string?, [string, string][]?], Context>;
  }
}

export function defineCreateScript(redis: Redis | Cluster): void {
  defineScript(redis, 'civicloopCreate', LUA);
}

export interface CreateArgs {
  keys: { sequence: string; numbers: string; ticket: string; history: string; events: string; idempotency: string; openNear: string };
  /** Index key -> the ticket's score in it. */
  indexes: Map<string, number>;
  day: string;
  prefix: string;
  ticketId: string;
  doc: string;
  event: string;
  parties: string;
  streamMaxLen: number;
  idempotency?: { value: string; ttlMs: number };
  /** Open tickets within radiusMeters of the point, at most count, found as Redis meets them. */
  nearSearch?: { lon: number; lat: number; radiusMeters: number; count: number };
}

export type CreateRecordOutcome = { kind: 'ok'; number: string; near: { id: string; distanceMeters: number }[] } | { kind: 'replay'; value: string };

export async function createTicketRecord(redis: Redis | Cluster, args: CreateArgs): Promise<CreateRecordOutcome> {
  const { keys, nearSearch } = args;
  const reply = await redis.civicloopCreate(
    7 + args.indexes.size,
    keys.sequence,
    keys.numbers,
    keys.ticket,
    keys.history,
    keys.events,
    keys.idempotency,
    keys.openNear,
    ...args.indexes.keys(),
    args.day,
    args.prefix,
    args.ticketId,
    args.doc,
    args.event,
    args.parties,
    String(args.streamMaxLen),
    args.idempotency?.value ?? '',
    String(args.idempotency?.ttlMs ?? 0),
    String(nearSearch?.radiusMeters ?? 0),
    String(nearSearch?.lon ?? 0),
    String(nearSearch?.lat ?? 0),
    String(nearSearch?.count ?? 0),
    ...[...args.indexes.values()].map(String),
  );
  if (reply[0] === 'replay') return { kind: 'replay', value: reply[1] ?? '' };
  return { kind: 'ok', number: reply[1] ?? '', near: (reply[3] ?? []).map(([id, distance]) => ({ id, distanceMeters: Number(distance) })) };
}
