import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addWorkingMinutes, isWorkingDay, workingMinutesBetween } from './working-time.js';
import { applyCommand, createTicket } from './state-machine.js';
import { applyDueMilestone, nextMilestone } from './timers.js';
import { DEFAULT_TENANT_POLICY, type TenantPolicy, type WorkingHours } from './schemas/admin.js';

// Monday to Friday, 09:00-18:00; the National Day week off, with two make-up Saturdays/Sundays.
const OFFICE: WorkingHours = {
  days: [1, 2, 3, 4, 5],
  start: '09:00',
  end: '18:00',
  holidays: ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'],
  workdays: ['2026-09-27', '2026-10-10'],
};
const SHANGHAI = 'Asia/Shanghai';
const add = (from: string, minutes: number, hours = OFFICE, zone = SHANGHAI) => addWorkingMinutes(new Date(from), minutes, hours, zone).toISOString();

describe('working time', () => {
  it('skips nights, weekends and holidays, and works make-up days', () => {
    // Friday 17:00 + 2 h: one hour on Friday, one on Monday.
    expect(add('2026-11-20T17:00:00+08:00', 120)).toBe(new Date('2026-11-23T10:00:00+08:00').toISOString());
    // Reported on Saturday: counting starts at Monday's opening.
    expect(add('2026-11-21T11:00:00+08:00', 30)).toBe(new Date('2026-11-23T09:30:00+08:00').toISOString());
    // Before opening and after closing on a weekday.
    expect(add('2026-11-23T07:00:00+08:00', 60)).toBe(new Date('2026-11-23T10:00:00+08:00').toISOString());
    expect(add('2026-11-23T19:00:00+08:00', 60)).toBe(new Date('2026-11-24T10:00:00+08:00').toISOString());
    // Exactly a working day lands on the closing time, not the next opening.
    expect(add('2026-11-23T09:00:00+08:00', 540)).toBe(new Date('2026-11-23T18:00:00+08:00').toISOString());
    // 30 Sept 17:00 + 3 h: one hour, then the holidays (and the weekend of 3-4 Oct), then 8 Oct.
    expect(add('2026-09-30T17:00:00+08:00', 180)).toBe(new Date('2026-10-08T11:00:00+08:00').toISOString());
    // Friday 9 Oct 17:30 + 1 h: Saturday 10 Oct is a make-up working day.
    expect(add('2026-10-09T17:30:00+08:00', 60)).toBe(new Date('2026-10-10T09:30:00+08:00').toISOString());
    expect([isWorkingDay(OFFICE, '2026-09-27'), isWorkingDay(OFFICE, '2026-10-01'), isWorkingDay(OFFICE, '2026-10-03')]).toEqual([true, false, false]);
  });

  it('follows the zone across a daylight-saving change', () => {
    // New York moved to summer time on Sunday 8 March 2026: Monday 10:00 EDT is 14:00 UTC.
    expect(add('2026-03-06T17:00:00-05:00', 120, { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' }, 'America/New_York')).toBe('2026-03-09T14:00:00.000Z');
  });

  it('refuses a calendar without working time', () => {
    expect(() => add('2026-11-20T17:00:00+08:00', 60, { days: [], start: '09:00', end: '18:00' })).toThrow(RangeError);
  });

  it('counts back exactly what it added (property)', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 24 * 60 }), fc.integer({ min: 0, max: 20_000 }), (offsetMinutes, minutes) => {
        const from = new Date(start + offsetMinutes * 60_000);
        const due = addWorkingMinutes(from, minutes, OFFICE, SHANGHAI);
        expect(due.getTime()).toBeGreaterThanOrEqual(from.getTime());
        expect(workingMinutesBetween(from, due, OFFICE, SHANGHAI)).toBeCloseTo(minutes, 6);
      }),
      { numRuns: 300 },
    );
  });
});

describe('deadlines in working hours', () => {
  const policy: TenantPolicy = { ...DEFAULT_TENANT_POLICY, workingHours: OFFICE };
  const service = { sub: 'svc', role: 'service' as const };
  const report = (priority?: 'urgent') =>
    createTicket(
      { category: 'sanitation.bin_overflow', description: 'Bin overflowing', location: { lat: 23.1, lon: 113.3 }, ...(priority ? { priority } : {}) },
      service,
      { id: 't1', number: 'T-1', tenantId: 'x' },
      new Date('2026-11-20T16:00:00+08:00'),
    ).ticket;
  const dispatch = (priority?: 'urgent') => {
    const result = applyCommand(report(priority), { type: 'dispatch', unitId: 'u1', assigneeId: 'w-1' }, service, new Date('2026-11-20T17:00:00+08:00'), {
      policy,
    });
    if (!result.ok) throw result.error;
    return result;
  };

  it('counts respond, arrive and resolve in working hours, with the warning steps on working time', () => {
    const { ticket, event } = dispatch();
    // Overflowing bin: respond 30 min, arrive 1 h, resolve 3 h. Dispatched Friday 17:00.
    expect(ticket.sla).toMatchObject({
      countedIn: 'working_hours',
      respondBy: new Date('2026-11-20T17:30:00+08:00').toISOString(),
      arriveBy: new Date('2026-11-20T18:00:00+08:00').toISOString(),
      resolveBy: new Date('2026-11-23T11:00:00+08:00').toISOString(),
    });
    // 50 % of three working hours is Monday 09:30 (an hour on Friday, half an hour on Monday), not Friday 18:30.
    expect(ticket.sla!.steps!.resolve).toEqual(
      ['2026-11-23T09:30:00+08:00', '2026-11-23T10:15:00+08:00', '2026-11-23T11:00:00+08:00', '2026-11-23T12:30:00+08:00', '2026-11-23T14:00:00+08:00'].map(
        (t) => new Date(t).toISOString(),
      ),
    );
    expect(event.data?.sla).toEqual({ respondBy: ticket.sla!.respondBy, arriveBy: ticket.sla!.arriveBy, resolveBy: ticket.sla!.resolveBy });
    // The weekend passes without a resolve escalation; Monday 11:00 is the breach.
    const accepted = applyCommand(ticket, { type: 'accept' }, { sub: 'w-1', role: 'worker', unitId: 'u1' }, new Date('2026-11-20T17:10:00+08:00'), { policy });
    if (!accepted.ok) throw accepted.error;
    const arrived = applyCommand(accepted.ticket, { type: 'arrive' }, { sub: 'w-1', role: 'worker', unitId: 'u1' }, new Date('2026-11-20T17:20:00+08:00'), {
      policy,
    });
    if (!arrived.ok) throw arrived.error;
    expect(nextMilestone(arrived.ticket)).toMatchObject({ deadline: 'resolve', step: 50, at: Date.parse('2026-11-23T09:30:00+08:00') });
    expect(applyDueMilestone(arrived.ticket, new Date('2026-11-22T12:00:00+08:00'))).toBeUndefined();
    const warned = applyDueMilestone(arrived.ticket, new Date('2026-11-23T09:30:00+08:00'));
    expect(warned?.event.data).toMatchObject({ deadline: 'resolve', percent: 50 });
    expect(applyDueMilestone(warned!.ticket, new Date('2026-11-23T10:59:00+08:00'))?.event.data).toMatchObject({ percent: 75 });
    expect(applyDueMilestone(warned!.ticket, new Date('2026-11-23T11:00:00+08:00'))?.event).toMatchObject({
      type: 'escalated',
      data: { percent: 100, level: 1 },
    });
  });

  it('keeps urgent tickets on the clock, and extends in working minutes', () => {
    expect(dispatch('urgent').ticket.sla!.countedIn).toBeUndefined();
    const { ticket } = dispatch();
    const worker = { sub: 'w-1', role: 'worker' as const, unitId: 'u1' };
    const asked = applyCommand(
      ticket,
      { type: 'request_extension', minutes: 540, reason: 'Waiting for a new bin' },
      worker,
      new Date('2026-11-20T17:15:00+08:00'),
      { policy },
    );
    if (!asked.ok) throw asked.error;
    const approved = applyCommand(
      asked.ticket,
      { type: 'review_extension', approve: true },
      { sub: 'd-1', role: 'dispatcher' },
      new Date('2026-11-20T17:20:00+08:00'),
      { policy },
    );
    if (!approved.ok) throw approved.error;
    // One more working day: Monday 11:00 becomes Tuesday 11:00; respond and arrive stay.
    expect(approved.ticket.sla).toMatchObject({
      resolveBy: new Date('2026-11-24T11:00:00+08:00').toISOString(),
      respondBy: ticket.sla!.respondBy,
      arriveBy: ticket.sla!.arriveBy,
    });
    expect(approved.ticket.sla!.steps!.resolve[2]).toBe(approved.ticket.sla!.resolveBy);
    expect(approved.ticket.sla!.steps!.respond).toEqual(ticket.sla!.steps!.respond);
  });
});
