import { randomBytes } from 'node:crypto';
import { isOverdue, type Ticket } from '@civicloop/model';

/**
 * A ticket this gateway has parsed before, under the revision tag it was stored with. Every write
 * of a ticket's document stores a new tag beside it (`r`, from `RevisionTags`), so a tag names one
 * document for good: a list page asks Redis for each ticket's tag and gets the document only when
 * the tag is not the one cached here. A tag, unlike the version number, is never used twice, even
 * when a failover or a restore loses writes and the version numbers after it are handed out again.
 */
export interface CachedTicket {
  rev: string;
  /**
   * Frozen all the way down, with its number set and, for a ticket with a deadline, `overdue` as of
   * its first reading: it is itself that form of the ticket, and the other is made from it when the
   * clock first calls for it (so a ticket read once costs no copy).
   */
  ticket: Ticket;
  /** The ticket as shown when it is past its deadline, and before (only for tickets with a deadline). */
  overdue?: Ticket;
  onTime?: Ticket;
  /** When it becomes overdue, in ms since the epoch (Infinity: never, in its stored state); kept to spare a date parse per reading. */
  dueAt: number;
  /** Read again since it was kept or last spared: spared once more when its turn to go comes. */
  used: boolean;
}

/** Revision tags: random per process, then counted, so no two writes anywhere share one. */
export class RevisionTags {
  private readonly prefix = randomBytes(9).toString('base64url');
  private count = 0;

  next(): string {
    this.count += 1;
    return `${this.prefix}.${this.count.toString(36)}`;
  }
}

/** The latest time a Date holds: a ticket overdue then is one whose status lets it be overdue at all. */
const LAST_DATE = new Date(8.64e15);

/** Every ticket object the cache hands out: the same object for every page until its ticket is written again. */
const shared = new WeakSet<Ticket>();

/**
 * Whether `ticket` is one the read cache handed out, the same object on every page until the
 * ticket is written again (so what is made from it, such as its JSON, can be kept with it), rather
 * than one parsed for one caller only.
 */
export function isSharedTicket(ticket: Ticket): boolean {
  return shared.has(ticket);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parsed tickets by key. When full, the oldest entry goes, unless it was read since it was kept,
 * in which case it is spared once and queued again (the "second chance" approximation of least
 * recently used: a hit only sets a flag, where moving the entry to the back cost a Map delete
 * and insert per ticket per page). Shared by every request, so what it hands out is frozen: a
 * caller that changed a ticket would change it for every later page.
 */
export class TicketReadCache {
  private readonly entries = new Map<string, CachedTicket>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * What is cached for `key`, taken before the read that checks its tag: held by the caller, it
   * stays usable even if another request's page pushes it out meanwhile.
   */
  peek(key: string): CachedTicket | undefined {
    return this.entries.get(key);
  }

  /** A cached ticket Redis confirmed is still stored as it is, as of `now`. */
  reuse(entry: CachedTicket, now: Date): Ticket {
    entry.used = true;
    return this.show(entry, now);
  }

  /** Keeps a freshly parsed ticket (number set, no overdue) under its tag; answers it as of `now`. Capacity 0 keeps nothing. */
  keep(key: string, rev: string, parsed: Ticket, now: Date): Ticket {
    // The model's rule decides whether it can ever be overdue (its status); the deadline, when.
    const dueAt = parsed.sla && isOverdue(parsed, LAST_DATE) ? Date.parse(parsed.sla.resolveBy) : Number.POSITIVE_INFINITY;
    const entry: CachedTicket = { rev, ticket: parsed, used: false, dueAt };
    if (parsed.sla) {
      parsed.overdue = dueAt < now.getTime();
      entry[parsed.overdue ? 'overdue' : 'onTime'] = parsed;
    }
    deepFreeze(parsed);
    shared.add(parsed);
    this.entries.delete(key);
    if (this.capacity > 0) this.entries.set(key, entry);
    this.evictBeyondCapacity();
    return parsed;
  }

  private evictBeyondCapacity(): void {
    // Each pass spares an entry at most once (clearing its flag), so this ends within size + 1 steps.
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestKey);
      if (oldest.used) {
        oldest.used = false;
        this.entries.set(oldestKey, oldest);
      }
    }
  }

  /** The ticket as of `now`: `overdue` set where it has a deadline, each of its two forms made once. */
  private show(entry: CachedTicket, now: Date): Ticket {
    const { ticket } = entry;
    if (!ticket.sla) return ticket;
    const slot = entry.dueAt < now.getTime() ? 'overdue' : 'onTime';
    let view = entry[slot];
    if (!view) {
      // Made from the kept form, which carries the other value of `overdue`: the spread replaces it.
      view = Object.freeze({ ...ticket, overdue: slot === 'overdue' });
      shared.add(view);
      entry[slot] = view;
    }
    return view;
  }
}
