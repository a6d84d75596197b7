import { randomUUID } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, isOverdue, type DeviceAlert, type StreamEvent, type Ticket, type TicketEvent } from '@civicloop/model';
import { commit, type CommitPlan } from '../redis/commit-script.js';
import { tenantKeys, type TenantKeys } from '../redis/keys.js';
import { IndexBuilds } from './index-builds.js';
import { indexDiff, indexMembership, partnersOf } from './indexes.js';
import { partnerSubject } from '../auth/partner-scope.js';
import { createTicketRecord } from '../redis/create-script.js';
import { registerScripts } from '../redis/scripts/index.js';
import { claimDue } from '../redis/lease-claim.js';
import { waitForReplicas, type ReplicaWait } from '../redis/wait-replicas.js';
import { readPipeline } from '../redis/read-pipeline.js';
import { RevisionTags, TicketReadCache } from './ticket-read-cache.js';

type Client = Redis | Cluster;

/** One ticket write: the ticket as it becomes and the event that explains it. */
export interface TicketWrite {
  before: Ticket | undefined;
  after: Ticket;
  event: TicketEvent;
}

export interface IdempotencyRecord {
  /** Fingerprint of the request that first used the key. */
  fp: string;
  ticketId: string;
}

type Replay = { kind: 'replay'; record: IdempotencyRecord };
/** A place-and-category neighbour found while writing a new ticket, nearest first. */
export interface NearTicket {
  id: string;
  distanceMeters: number;
}
/**
 * `json`: the new ticket with its number, as a read of it gives it (what the answer can send
 * instead of serialising the ticket again); undefined if the document did not start as expected.
 */
export type CreateOutcome = { kind: 'written'; number: string; near: NearTicket[]; json: string | undefined } | Replay;
/**
 * The first ticket of a commit and its event as the commit stored them: the JSON an answer that
 * shows both unchanged can send instead of serialising them again (routes/commands.ts).
 */
export interface WrittenJson {
  ticket: string;
  event: string;
}
export type ApplyOutcome = { kind: 'written'; json: WrittenJson } | Replay;

export interface TicketStoreOptions {
  streamMaxLen: number;
  idempotencyTtlSeconds: number;
  /** REDIS_WAIT_REPLICAS: a write (or its replay) answers only once replicas have it. */
  replicaWait?: ReplicaWait;
  /** TICKET_CACHE_ENTRIES: how many parsed tickets list pages keep (0: none). */
  cacheEntries?: number;
}

/**
 * A new ticket's stored document with the number its create script drew: the document starts
 * with its id and its empty number (createTicket sets those first); undefined if it does not.
 */
export function withNumber(doc: string, id: string, number: string): string | undefined {
  const head = `{"id":${JSON.stringify(id)},"number":`;
  return doc.startsWith(`${head}""`) ? `${head}${JSON.stringify(number)}${doc.slice(head.length + 2)}` : undefined;
}

/** 122 random bits; randomUUID draws from a pooled entropy buffer, so it is cheap per call. */
export function newTicketId(): string {
  return `tk_${randomUUID().replaceAll('-', '')}`;
}

/** Redis persistence of tickets: documents, history, indexes and the tenant event stream. */
export class TicketStore {
  private readonly revisions = new RevisionTags();
  private readonly cache: TicketReadCache;
  /** Indexes added after tickets were stored, and whether each tenant's are built. */
  readonly indexBuilds: IndexBuilds;

  constructor(
    private readonly redis: Client,
    private readonly options: TicketStoreOptions,
  ) {
    // Its writes are the commit and create scripts.
    registerScripts(redis);
    this.cache = new TicketReadCache(options.cacheEntries ?? 0);
    this.indexBuilds = new IndexBuilds(redis);
  }

  keys(tenantId: string): TenantKeys {
    return tenantKeys(tenantId);
  }

  async get(tenantId: string, id: string, now = new Date()): Promise<Ticket | undefined> {
    const [doc, number] = await this.redis.hmget(this.keys(tenantId).ticket(id), 'doc', 'number');
    return doc ? withComputed(JSON.parse(doc) as Ticket, number ?? '', now) : undefined;
  }

  /**
   * A ticket and, read in the same command, one field of each hash in `beside` (the raw stored
   * value, or null): for a command that must check records of other kinds against the ticket.
   */
  async getWith(
    tenantId: string,
    id: string,
    beside: readonly { key: string; field: string }[],
    now = new Date(),
  ): Promise<{ ticket: Ticket | undefined; beside: (string | null)[] }> {
    if (beside.length === 0) return { ticket: await this.get(tenantId, id, now), beside: [] };
    const [doc, number, ...values] = await this.redis.civicloopReadTicketWith(
      1 + beside.length,
      this.keys(tenantId).ticket(id),
      ...beside.map((b) => b.key),
      ...beside.map((b) => b.field),
    );
    return { ticket: doc ? withComputed(JSON.parse(doc) as Ticket, number ?? '', now) : undefined, beside: beside.map((_, i) => values[i] ?? null) };
  }

  /** Several tickets, each parsed for this caller alone (theirs to change). */
  async getMany(tenantId: string, ids: string[], now = new Date()): Promise<(Ticket | undefined)[]> {
    if (ids.length === 0) return [];
    const keys = this.keys(tenantId);
    const flat = await this.redis.civicloopReadTickets(ids.length, ...ids.map((id) => keys.ticket(id)));
    return ids.map((_, i) => {
      // Sent no tags, the script answers no 1s: number and document are strings or nil.
      const doc = flat[3 * i + 2] as string | null;
      return doc ? withComputed(JSON.parse(doc) as Ticket, (flat[3 * i] as string | null) ?? '', now) : undefined;
    });
  }

  /**
   * Several tickets for a list page, from the read cache where Redis says the cached revision is
   * still the stored one: only the documents that changed (or were never seen) travel and are
   * parsed. What it answers may be shared with other requests and frozen: read it, never change it.
   */
  async getPage(tenantId: string, ids: string[], now = new Date()): Promise<(Ticket | undefined)[]> {
    if (this.cache.capacity === 0) return this.getMany(tenantId, ids, now);
    if (ids.length === 0) return [];
    const tenantKeys = this.keys(tenantId);
    const keys = ids.map((id) => tenantKeys.ticket(id));
    const known = keys.map((key) => this.cache.peek(key));
    const flat = await this.redis.civicloopReadTickets(keys.length, ...keys, known.map((entry) => entry?.rev ?? '').join(' '));
    return keys.map((key, i) => {
      const rev = flat[3 * i + 1];
      // 1: still at the tag sent (only ever answered for a tag the cache holds).
      if (rev === 1) return this.cache.reuse(known[i]!, now);
      // Only the tag's place can hold a 1.
      const number = flat[3 * i] as string | null;
      const doc = flat[3 * i + 2] as string | null;
      if (!doc) return undefined;
      const ticket = JSON.parse(doc) as Ticket;
      // A document stored before revision tags has no tag to check a cached copy against; a tag
      // with a space (never one this gateway writes) could not be sent back joined with the others.
      if (!rev || rev.includes(' ')) return withComputed(ticket, number ?? '', now);
      ticket.number = number ?? '';
      return this.cache.keep(key, rev, ticket, now);
    });
  }

  async history(tenantId: string, id: string): Promise<TicketEvent[]> {
    const raw = await this.redis.lrange(this.keys(tenantId).history(id), 0, -1);
    return raw.map((entry) => JSON.parse(entry) as TicketEvent);
  }

  async findIdempotency(tenantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const raw = await this.redis.get(this.keys(tenantId).idempotency(key));
    return raw ? (JSON.parse(raw) as IdempotencyRecord) : undefined;
  }

  /**
   * Writes a new ticket: allocates its number (TENANT-YYYYMMDD-NNNN), stores it, its first event,
   * its indexes and the stream entry, atomically, unless the idempotency key was used before.
   * With `nearSearch`, also answers which open tickets of the category were already that close.
   */
  async create(
    tenantId: string,
    write: TicketWrite,
    numbering: { prefix: string; day: string },
    idem?: { key: string; fp: string; ttlSeconds?: number },
    nearSearch?: { radiusMeters: number; count: number },
  ): Promise<CreateOutcome> {
    const keys = this.keys(tenantId);
    const { after, event } = write;
    // Stored with its number empty: the script draws the number and keeps it beside the document.
    const doc = JSON.stringify(after);
    const eventJson = JSON.stringify(event);
    const membership = indexMembership(keys, after);
    const result = await createTicketRecord(this.redis, {
      keys: {
        sequence: keys.sequence,
        numbers: keys.numbers,
        ticket: keys.ticket(after.id),
        history: keys.history(after.id),
        events: keys.events,
        // Declared even when unused, so the script's keys are always the same shape.
        idempotency: keys.idempotency(idem?.key ?? '-'),
        openNear: keys.index.openNear(after.category),
      },
      indexes: membership,
      day: numbering.day,
      prefix: numbering.prefix,
      ticketId: after.id,
      doc,
      rev: this.revisions.next(),
      event: eventJson,
      parties: partiesOf(after),
      streamMaxLen: this.options.streamMaxLen,
      // Plain properties, not spreads of optional objects: this literal is built for every create.
      idempotency: idem ? { value: idempotencyRecord(idem, after.id), ttlMs: (idem.ttlSeconds ?? this.options.idempotencyTtlSeconds) * 1000 } : undefined,
      nearSearch: nearSearch ? { radiusMeters: nearSearch.radiusMeters, count: nearSearch.count, lon: after.location.lon, lat: after.location.lat } : undefined,
    });
    // A replay waits too: the first answer may have been CL_ERR_NOT_REPLICATED.
    await waitForReplicas(this.redis, keys.events, this.options.replicaWait);
    if (result.kind === 'replay') return { kind: 'replay', record: JSON.parse(result.value) as IdempotencyRecord };
    return {
      kind: 'written',
      number: result.number,
      near: result.near.sort((a, b) => a.distanceMeters - b.distanceMeters),
      json: withNumber(doc, after.id, result.number),
    };
  }

  /**
   * Applies state-machine results to stored tickets, each only if it is still at the version it
   * was read at. Several writes (a merge touches two tickets) land together or not at all.
   * `read` are tickets the decision depended on without being written (the original of a merge
   * whose reporter cannot follow it): they too must still be at the version that was read, or
   * nothing is written.
   */
  async apply(tenantId: string, writes: TicketWrite[], idem?: { key: string; fp: string }, read: Ticket[] = []): Promise<ApplyOutcome> {
    const keys = this.keys(tenantId);
    const plan = this.planWrites(keys, writes, idem);
    plan.checks = [
      ...writes.map((w) => ({ key: keys.ticket(w.after.id), version: w.before ? w.before.version : null })),
      ...read.map((t) => ({ key: keys.ticket(t.id), version: t.version })),
    ];
    const outcome = await this.run(plan, keys.events);
    return outcome.kind === 'written' ? { kind: 'written', json: { ticket: plan.docs![0]!.doc, event: plan.pushes![0]!.val } } : outcome;
  }

  private planWrites(keys: TenantKeys, writes: TicketWrite[], idem?: { key: string; fp: string }): CommitPlan {
    const plan: CommitPlan = { docs: [], pushes: [], zrem: [], zadd: [], xadd: [] };
    for (const { before, after, event } of writes) {
      // Serialised as is: `overdue` is never set on a ticket being written.
      plan.docs!.push({ key: keys.ticket(after.id), doc: JSON.stringify(after), version: after.version, rev: this.revisions.next() });
      const eventJson = JSON.stringify(event);
      plan.pushes!.push({ key: keys.history(after.id), val: eventJson });
      const diff = indexDiff(keys, before, after);
      plan.zrem!.push(...diff.zrem);
      plan.zadd!.push(...diff.zadd);
      plan.xadd!.push({ key: keys.events, maxLen: this.options.streamMaxLen, fields: ['e', eventJson, 'n', after.number, 'p', partiesOf(after)] });
    }
    if (idem)
      plan.idem = { key: keys.idempotency(idem.key), val: idempotencyRecord(idem, writes[0]!.after.id), ttlMs: this.options.idempotencyTtlSeconds * 1000 };
    return plan;
  }

  /** `routingKey`: any key of the plan's tenant, to find its primary for REDIS_WAIT_REPLICAS. */
  private async run(plan: CommitPlan, routingKey: string): Promise<{ kind: 'written' } | Replay> {
    const result = await commit(this.redis, plan);
    if (result.kind !== 'conflict') await waitForReplicas(this.redis, routingKey, this.options.replicaWait);
    if (result.kind === 'replay') return { kind: 'replay', record: JSON.parse(result.value) as IdempotencyRecord };
    if (result.kind === 'conflict') {
      throw new CivicLoopError(
        'CL_ERR_VERSION_CONFLICT',
        'The ticket changed while this command was applied (another command won); read it again and decide whether the command still applies.',
        { currentVersion: result.version === '' ? null : Number(result.version) },
      );
    }
    return { kind: 'written' };
  }

  /**
   * Open tickets of a category within `radiusMeters` of a WGS-84 point, nearest first: at most
   * `count` looked at, taken as Redis finds them (ANY), so a spot with thousands of open reports
   * costs no more than one with twenty.
   */
  async openNear(tenantId: string, category: string, at: { lat: number; lon: number }, radiusMeters: number, count: number): Promise<NearTicket[]> {
    const found = (await this.redis.call(
      'GEOSEARCH',
      this.keys(tenantId).index.openNear(category),
      'FROMLONLAT',
      at.lon,
      at.lat,
      'BYRADIUS',
      radiusMeters,
      'm',
      'COUNT',
      count,
      'ANY',
      'WITHDIST',
    )) as [string, string][];
    return found.map(([id, distance]) => ({ id, distanceMeters: Number(distance) })).sort((a, b) => a.distanceMeters - b.distanceMeters);
  }

  /** The id of the ticket with this number (CIVICLOOP-20261203-0001), if there is one. */
  async idOfNumber(tenantId: string, number: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(tenantId).numbers, number)) ?? undefined;
  }

  /** The open black spot whose cell this is, if any (its code). */
  async openBlackSpotIn(tenantId: string, cell: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys(tenantId).openBlackSpots, cell)) ?? undefined;
  }

  /** Notes that these stored photos (by hash) belong to this ticket, for keyless photo reads. */
  async notePhotoTickets(tenantId: string, ticketId: string, photoHashes: string[]): Promise<void> {
    await Promise.all(photoHashes.map((hash) => this.redis.sadd(this.keys(tenantId).photoTickets(hash), ticketId)));
  }

  /** The tickets a stored photo (by hash) belongs to. */
  async ticketsOfPhoto(tenantId: string, photoHash: string): Promise<string[]> {
    return this.redis.smembers(this.keys(tenantId).photoTickets(photoHash));
  }

  /**
   * Claims the tickets whose next deadline milestone is due at `now` (at most `limit`), leased
   * until `leaseUntil`: another scheduler does not take them meanwhile, and if this one dies they
   * are due again when the lease runs out.
   */
  claimDueTimers(tenantId: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
    return claimDue(this.redis, this.keys(tenantId).index.timers, now, leaseUntil, limit);
  }

  /** Puts a claimed ticket back at its next milestone (undefined: none, removed), unless a commit rescheduled it meanwhile. */
  async settleTimer(tenantId: string, id: string, lease: number, nextAt: number | undefined): Promise<void> {
    await this.redis.civicloopTimersSettle(1, this.keys(tenantId).index.timers, id, lease, nextAt ?? '');
  }

  /** Reads a page of a sorted-set index, newest first, from an exclusive (score, id) position. */
  async scanIndex(key: string, from: { max: string; min: string; offset: number; count: number }): Promise<{ id: string; score: number }[]> {
    const flat = await this.redis.zrange(key, from.max, from.min, 'BYSCORE', 'REV', 'LIMIT', from.offset, from.count, 'WITHSCORES');
    const out: { id: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, score: Number(flat[i + 1]) });
    return out;
  }

  async cardinalities(keys: string[]): Promise<number[]> {
    const pipeline = readPipeline(this.redis);
    for (const key of keys) pipeline.zcard(key);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, n]) => {
      if (error) throw error;
      return Number(n);
    });
  }
}

/** Who may see a ticket's stream events: the stream entry carries them for citizen and partner filtering. */
function partiesOf(ticket: Ticket): string {
  return JSON.stringify([ticket.reporter.sub, ...ticket.followers, ...[...partnersOf(ticket)].map(partnerSubject)]);
}

function idempotencyRecord(idem: { fp: string }, ticketId: string): string {
  return JSON.stringify({ fp: idem.fp, ticketId } satisfies IdempotencyRecord);
}

/** Completes a freshly parsed document (ours to change): its number, and overdue as of now. */
function withComputed(ticket: Ticket, number: string, now: Date): Ticket {
  ticket.number = number;
  if (ticket.sla) ticket.overdue = isOverdue(ticket, now);
  return ticket;
}

/** A device alert on the tenant's event stream (written by telemetry/device-alerts.ts), if the entry is one. */
export function streamEntryToAlert(fields: string[]): DeviceAlert | undefined {
  return fields[0] === 'a' && fields[1] ? (JSON.parse(fields[1]) as DeviceAlert) : undefined;
}

/** Decodes a tenant stream entry into what SSE clients receive. */
export function streamEntryToEvent(id: string, fields: string[]): { event: StreamEvent; parties: string[] } | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const raw = map.get('e');
  if (!raw) return undefined;
  return {
    event: { streamId: id, ticketNumber: map.get('n') ?? '', event: JSON.parse(raw) as TicketEvent },
    parties: JSON.parse(map.get('p') ?? '[]') as string[],
  };
}
