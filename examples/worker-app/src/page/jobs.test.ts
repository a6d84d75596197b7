import { describe, expect, it } from 'vitest';
import type { TicketEvent } from '@civicloop/sdk';
import { howTaken } from './jobs.js';

// How a job left the worker's list, read from its history when the phone heard no event.
let version = 0;
function event(type: TicketEvent['type'], by: string, data?: Record<string, unknown>): TicketEvent {
  version += 1;
  const role = by.startsWith('w-') ? 'worker' : 'dispatcher';
  return {
    id: `e${version}`,
    ticketId: 't1',
    version,
    type,
    from: null,
    to: 'dispatched',
    actor: { sub: by, role },
    at: '2026-12-07T08:00:00.000Z',
    ...(data ? { data } : {}),
  };
}
const reported = event('reported', 'resident');
const toMe = event('dispatched', 'd-1', { unitId: 'sanitation', assigneeId: 'w-me' });

describe('howTaken', () => {
  it('names how a dispatcher took the job from the worker', () => {
    expect(howTaken([reported, toMe, event('reassigned', 'd-1', { fromAssigneeId: 'w-me', assigneeId: 'w-other' })], 'w-me')).toBe('takenReassigned');
    expect(howTaken([reported, toMe, event('returned', 'd-1', { reason: 'yard', assigneeId: 'w-me' })], 'w-me')).toBe('takenReturned');
    expect(howTaken([reported, toMe, event('merged', 'd-1', { into: 't2' })], 'w-me')).toBe('takenMerged');
  });

  it('goes by the newest assigning event, whatever the new assignee did since', () => {
    const away = event('reassigned', 'd-1', { fromAssigneeId: 'w-me', assigneeId: 'w-other' });
    expect(howTaken([reported, toMe, away, event('accepted', 'w-other'), event('arrived', 'w-other')], 'w-me')).toBe('takenReassigned');
    // Taken, then given back: the job is the worker's again, and its leaving since (resolved for them) was no taking.
    const back = event('reassigned', 'd-1', { fromAssigneeId: 'w-other', assigneeId: 'w-me' });
    expect(howTaken([reported, toMe, away, back, event('resolved', 'admin')], 'w-me')).toBeUndefined();
  });

  it('says nothing of what the worker did themselves, or of a job taken from someone else', () => {
    expect(howTaken([reported, toMe, event('returned', 'w-me', { reason: 'yard', assigneeId: 'w-me' })], 'w-me')).toBeUndefined();
    expect(howTaken([reported, toMe, event('reassigned', 'd-1', { fromAssigneeId: 'w-other', assigneeId: 'w-third' })], 'w-me')).toBeUndefined();
    expect(howTaken([reported, toMe, event('returned', 'd-1', { reason: 'yard', assigneeId: 'w-other' })], 'w-me')).toBeUndefined();
    expect(howTaken([reported, toMe, event('resolved', 'w-me')], 'w-me')).toBeUndefined();
    expect(howTaken([], 'w-me')).toBeUndefined();
  });
});
