import {
  CivicLoopError,
  TERMINAL_STATUSES,
  TICKET_STATUSES,
  isOverdue,
  type ListTicketsQuery,
  type Principal,
  type Ticket,
  type TicketPage,
  type TicketStatus,
} from '@civicloop/model';
import { OPEN_INDEXES, type OpenIndexName } from '../store/index-builds.js';
import type { TicketStore } from '../store/ticket-store.js';
import { canSee } from './visibility.js';

/** How many index entries one page may examine before it returns what it has and a cursor. */
const SCAN_BUDGET = 2000;
const MAX_BATCH = 200;

interface Cursor {
  s: number;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Cursor;
    if (typeof value.s === 'number' && typeof value.id === 'string') return value;
  } catch {
    // fall through to the error below
  }
  throw new CivicLoopError('CL_ERR_VALIDATION', 'cursor is not one this API returned; pass nextCursor from the previous page unchanged.');
}

function parseStatuses(raw: string | undefined): TicketStatus[] | undefined {
  if (!raw) return undefined;
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(TICKET_STATUSES as readonly string[]).includes(s));
  if (unknown.length) throw new CivicLoopError('CL_ERR_VALIDATION', `Unknown status ${unknown.join(', ')}; use ${TICKET_STATUSES.join(', ')}.`);
  return list as TicketStatus[];
}

/**
 * The index of an assignee's or a unit's tickets to scan: where only unfinished statuses are
 * asked for (a worker's jobs, a unit's open work), the open index, which stays small however many
 * tickets were finished before, once the tenant's build has filled it (store/index-builds.ts);
 * otherwise every ticket they ever had.
 */
async function ownerIndex(store: TicketStore, tenantId: string, name: OpenIndexName, owner: string, statuses: TicketStatus[] | undefined): Promise<string> {
  const keys = store.keys(tenantId);
  const open = statuses?.every((s) => !TERMINAL_STATUSES.includes(s)) && (await store.indexBuilds.ready(tenantId, name));
  return open ? OPEN_INDEXES[name].key(keys, owner) : OPEN_INDEXES[name].everyTicket(keys, owner);
}

/**
 * Lists tickets newest first. The smallest matching sorted-set index drives the scan and the
 * remaining filters are checked on each ticket, so a page costs index reads plus one read of the
 * tickets per batch, whatever the tenant's size. The tickets come from the store's read cache
 * (getPage): shared and frozen, so nothing here or in a caller may change them.
 */
export async function listTickets(store: TicketStore, principal: Principal, query: ListTicketsQuery, now: Date): Promise<TicketPage> {
  const keys = store.keys(principal.tenantId);
  const statuses = parseStatuses(query.status);
  const limit = query.limit ?? 50;

  const candidates: string[] = [];
  // A partner's server has its own party index (partnerSubject), as a resident has theirs.
  if (principal.role === 'citizen' || principal.role === 'partner') candidates.push(keys.index.party(principal.sub));
  if (statuses?.length === 1) candidates.push(keys.index.status(statuses[0]!));
  if (query.category) candidates.push(keys.index.category(query.category));
  if (query.unitId) candidates.push(await ownerIndex(store, principal.tenantId, 'unitOpen', query.unitId, statuses));
  if (query.assigneeId) candidates.push(await ownerIndex(store, principal.tenantId, 'assigneeOpen', query.assigneeId, statuses));
  if (query.channel) candidates.push(keys.index.channel(query.channel));
  let source = candidates[0] ?? keys.index.all;
  // Only a choice between indexes needs their sizes: one filter (or none) costs no round trip.
  if (candidates.length > 1) {
    const sizes = await store.cardinalities(candidates);
    source = candidates[sizes.indexOf(Math.min(...sizes))]!;
  }

  const text = query.q?.toLowerCase();
  const matches = (t: Ticket): boolean =>
    canSee(principal, t) &&
    (!statuses || statuses.includes(t.status)) &&
    (!query.category || t.category === query.category) &&
    (!query.unitId || t.unitId === query.unitId) &&
    (!query.assigneeId || t.assigneeId === query.assigneeId) &&
    (!query.channel || t.channel === query.channel) &&
    (query.overdue === undefined || isOverdue(t, now) === query.overdue) &&
    (!text || [t.number, t.description, t.location.address ?? ''].some((field) => field.toLowerCase().includes(text)));

  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const max = cursor ? String(cursor.s) : query.createdTo ? String(Date.parse(query.createdTo)) : '+inf';
  const min = query.createdFrom ? String(Date.parse(query.createdFrom)) : '-inf';

  const items: Ticket[] = [];
  let offset = 0;
  let scanned = 0;
  let last: Cursor | undefined;
  let exhausted = false;
  // Start with just enough for the page (plus the cursor's neighbour); widen only when filters
  // reject entries, so an unfiltered page reads limit + 1 documents, not hundreds.
  let batchSize = Math.min(MAX_BATCH, limit + 1);
  while (items.length < limit && scanned < SCAN_BUDGET) {
    const batch = await store.scanIndex(source, { max, min, offset, count: batchSize });
    offset += batch.length;
    // Entries at the cursor's score sort by id descending; those at or above the cursor id were served.
    const fresh = cursor ? batch.filter((e) => e.score < cursor.s || e.id < cursor.id) : batch;
    const docs = await store.getPage(
      principal.tenantId,
      fresh.map((e) => e.id),
      now,
    );
    let i = 0;
    for (; i < fresh.length && items.length < limit; i++) {
      scanned++;
      last = { s: fresh[i]!.score, id: fresh[i]!.id };
      const ticket = docs[i];
      if (ticket && matches(ticket)) items.push(ticket);
    }
    if (batch.length < batchSize && i === fresh.length) {
      exhausted = true;
      break;
    }
    batchSize = Math.min(MAX_BATCH, batchSize * 2);
  }
  return { items, nextCursor: exhausted || !last ? null : encodeCursor(last) };
}
