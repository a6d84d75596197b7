import type { Cluster, Redis } from 'ioredis';

// The script itself, with its KEYS and ARGV: redis/scripts/create-ticket.ts.

export interface CreateArgs {
  keys: { sequence: string; numbers: string; ticket: string; history: string; events: string; idempotency: string; openNear: string };
  /** Index key -> the ticket's score in it. */
  indexes: Map<string, number>;
  day: string;
  prefix: string;
  ticketId: string;
  doc: string;
  /** The document's revision tag (store/ticket-read-cache.ts). */
  rev: string;
  event: string;
  parties: string;
  streamMaxLen: number;
  idempotency?: { value: string; ttlMs: number };
  /** Open tickets within radiusMeters of the point, at most count, found as Redis meets them. */
  nearSearch?: { lon: number; lat: number; radiusMeters: number; count: number };
}

export type CreateRecordOutcome = { kind: 'ok'; number: string; near: { id: string; distanceMeters: number }[] } | { kind: 'replay'; value: string };

export async function createTicketRecord(redis: Redis | Cluster, args: CreateArgs): Promise<CreateRecordOutcome> {
  const { keys, nearSearch, indexes } = args;
  // The argument list filled in place: in a create profile, spreading the index map's keys and
  // values cost more than any other line of building the arguments.
  const list: string[] = [keys.sequence, keys.numbers, keys.ticket, keys.history, keys.events, keys.idempotency, keys.openNear];
  for (const key of indexes.keys()) list.push(key);
  list.push(
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
    args.rev,
  );
  for (const score of indexes.values()) list.push(String(score));
  const reply = await redis.civicloopCreate(7 + indexes.size, ...list);
  if (reply[0] === 'replay') return { kind: 'replay', value: reply[1] ?? '' };
  return { kind: 'ok', number: reply[1] ?? '', near: (reply[3] ?? []).map(([id, distance]) => ({ id, distanceMeters: Number(distance) })) };
}
