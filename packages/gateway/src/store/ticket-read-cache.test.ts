import { describe, expect, it } from 'vitest';
import { TICKET_STATUSES, isOverdue, type Ticket } from '@civicloop/model';
import { RevisionTags, TicketReadCache, isSharedTicket } from './ticket-read-cache.js';

const AT = new Date('2026-12-04T08:00:00Z');

/** Only the fields the cache looks at: a deadline and a status that still counts against it. */
function parsed(id: string, resolveBy?: string): Ticket {
  return {
    id,
    status: 'dispatched',
    number: `T-20261204-${id}`,
    location: { lat: 23.1, lon: 113.3 },
    followers: [],
    ...(resolveBy ? { sla: { resolveBy } } : {}),
  } as unknown as Ticket;
}

describe('RevisionTags', () => {
  it('never hands out a tag twice, in one process or across two (each starts from its own random prefix)', () => {
    const a = new RevisionTags();
    const b = new RevisionTags();
    const tags = [...Array.from({ length: 1000 }, () => a.next()), ...Array.from({ length: 1000 }, () => b.next())];
    expect(new Set(tags).size).toBe(2000);
    // The commit script's op list is split on spaces: a tag must hold none.
    expect(tags.every((tag) => /^[A-Za-z0-9_.-]+$/.test(tag))).toBe(true);
  });
});

describe('TicketReadCache', () => {
  it('hands out the kept ticket frozen all the way down, shared between readers', () => {
    const cache = new TicketReadCache(10);
    const shown = cache.keep('k1', 'r1', parsed('1'), AT);
    expect(isSharedTicket(shown)).toBe(true);
    expect(() => {
      (shown as { status: string }).status = 'closed';
    }).toThrow(TypeError);
    expect(() => {
      (shown.location as { lat: number }).lat = 0;
    }).toThrow(TypeError);
    expect(() => (shown.followers as string[]).push('x')).toThrow(TypeError);
    const entry = cache.peek('k1');
    expect(entry?.rev).toBe('r1');
    expect(cache.reuse(entry!, AT)).toBe(shown);
    expect(isSharedTicket(parsed('2'))).toBe(false);
  });

  it('sets overdue as of each reading, one shared object per value, the kept ticket being the first reading', () => {
    const cache = new TicketReadCache(10);
    const before = cache.keep('k1', 'r1', parsed('1', '2026-12-04T09:00:00Z'), AT);
    expect(before.overdue).toBe(false);
    const entry = cache.peek('k1')!;
    const later = new Date('2026-12-04T09:00:01Z');
    const after = cache.reuse(entry, later);
    expect(after.overdue).toBe(true);
    expect(entry.ticket).toBe(before);
    expect(entry.ticket.overdue).toBe(false);
    expect(cache.reuse(entry, later)).toBe(after);
    expect(cache.reuse(entry, AT)).toBe(before);
    expect(isSharedTicket(after)).toBe(true);
    expect(Object.isFrozen(after)).toBe(true);
  });

  it('agrees with the model on overdue, whatever the status and the clock', () => {
    const cache = new TicketReadCache(100);
    const clocks = [new Date('2026-12-04T08:59:59Z'), new Date('2026-12-04T09:00:00Z'), new Date('2026-12-04T09:00:01Z')];
    for (const status of TICKET_STATUSES) {
      const ticket = { ...parsed(status, '2026-12-04T09:00:00Z'), status } as Ticket;
      const first = cache.keep(status, 'r1', structuredClone(ticket), clocks[0]!);
      expect(first.overdue).toBe(isOverdue(ticket, clocks[0]!));
      for (const clock of clocks) expect(cache.reuse(cache.peek(status)!, clock).overdue).toBe(isOverdue(ticket, clock));
    }
    // The comparison would pass vacuously if no status could be overdue.
    expect(TICKET_STATUSES.some((status) => isOverdue({ ...parsed(status, '2026-12-04T09:00:00Z'), status } as Ticket, clocks[2]!))).toBe(true);
  });

  it('a ticket without a deadline has no overdue at all', () => {
    const cache = new TicketReadCache(10);
    expect(cache.keep('k1', 'r1', parsed('1'), AT)).not.toHaveProperty('overdue');
  });

  it('keeping a new revision replaces the old one', () => {
    const cache = new TicketReadCache(10);
    cache.keep('k1', 'r1', parsed('1'), AT);
    const newer = cache.keep('k1', 'r2', { ...parsed('1'), status: 'resolved' } as Ticket, AT);
    expect(cache.size).toBe(1);
    expect(cache.peek('k1')?.rev).toBe('r2');
    expect(cache.reuse(cache.peek('k1')!, AT)).toBe(newer);
  });

  it('when full, drops the oldest entry not read since it was kept, sparing a read one once', () => {
    const cache = new TicketReadCache(3);
    for (const k of ['a', 'b', 'c']) cache.keep(k, 'r1', parsed(k), AT);
    cache.reuse(cache.peek('a')!, AT);
    cache.keep('d', 'r1', parsed('d'), AT);
    // a was oldest but read: spared; b goes.
    expect([...['a', 'b', 'c', 'd'].map((k) => cache.peek(k) !== undefined)]).toEqual([true, false, true, true]);
    cache.keep('e', 'r1', parsed('e'), AT);
    // c is now the oldest not read since.
    expect([...['a', 'c', 'd', 'e'].map((k) => cache.peek(k) !== undefined)]).toEqual([true, false, true, true]);
    cache.keep('f', 'r1', parsed('f'), AT);
    cache.keep('g', 'r1', parsed('g'), AT);
    // a was spared once and not read again: it goes in its turn.
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it('an entry held by a reader stays usable after it is pushed out', () => {
    const cache = new TicketReadCache(1);
    const shown = cache.keep('a', 'r1', parsed('a'), AT);
    const held = cache.peek('a')!;
    cache.keep('b', 'r1', parsed('b'), AT);
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.reuse(held, AT)).toBe(shown);
  });

  it('with capacity 0 keeps nothing', () => {
    const cache = new TicketReadCache(0);
    cache.keep('a', 'r1', parsed('a'), AT);
    expect(cache.size).toBe(0);
    expect(cache.peek('a')).toBeUndefined();
  });
});
