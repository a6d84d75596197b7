import { describe, expect, it } from 'vitest';
import { calendarDay, instantOfLocalTime, zonedIsoTime } from './calendar.js';

describe('times in a zone', () => {
  it('writes an instant as the zone wall clock with its offset, half-hour offsets and summer time included', () => {
    expect(zonedIsoTime(new Date('2026-11-22T01:02:03.999Z'), 'Asia/Shanghai')).toBe('2026-11-22T09:02:03+08:00');
    expect(zonedIsoTime(new Date('2026-07-01T12:00:00Z'), 'America/New_York')).toBe('2026-07-01T08:00:00-04:00');
    expect(zonedIsoTime(new Date('2026-01-15T12:00:00Z'), 'America/New_York')).toBe('2026-01-15T07:00:00-05:00');
    expect(zonedIsoTime(new Date('2026-03-01T00:00:00Z'), 'Asia/Kolkata')).toBe('2026-03-01T05:30:00+05:30');
    expect(zonedIsoTime(new Date('2026-01-15T02:00:00Z'), 'America/St_Johns')).toBe('2026-01-14T22:30:00-03:30');
    expect(zonedIsoTime(new Date('2026-12-31T16:00:00Z'), 'Asia/Shanghai')).toBe('2027-01-01T00:00:00+08:00');
  });

  it('gives the calendar day of the zone, not of UTC', () => {
    expect(calendarDay(new Date('2026-12-31T16:00:00Z'), 'Asia/Shanghai')).toBe('20270101');
    expect(calendarDay(new Date('2026-12-31T16:00:00Z'), 'UTC')).toBe('20261231');
  });

  it("reads a wall-clock time without a zone as the zone's, as hotline exports write them", () => {
    const iso = (text: string, zone: string) => {
      const at = instantOfLocalTime(text, zone);
      return Number.isNaN(at) ? 'NaN' : new Date(at).toISOString();
    };
    expect(iso('2026-11-30 09:15', 'Asia/Shanghai')).toBe('2026-11-30T01:15:00.000Z');
    expect(iso('2026-11-30T09:15:23', 'Asia/Shanghai')).toBe('2026-11-30T01:15:23.000Z');
    expect(iso('2027-01-01 00:00:00', 'Asia/Shanghai')).toBe('2026-12-31T16:00:00.000Z');
    expect(iso('2026-03-01 05:30', 'Asia/Kolkata')).toBe('2026-03-01T00:00:00.000Z');
    expect(iso('2026-07-01 08:00', 'America/New_York')).toBe('2026-07-01T12:00:00.000Z');
    // London leaves summer time at 02:00 BST on 25 October 2026: 01:30 comes twice, the first is taken.
    expect(iso('2026-10-25 01:30', 'Europe/London')).toBe('2026-10-25T00:30:00.000Z');
    // ...and enters it at 01:00 GMT on 29 March 2026: 01:30 never happens there.
    expect(iso('2026-03-29 01:30', 'Europe/London')).toBe('NaN');
    for (const bad of [
      '2026-02-30 09:15',
      '2026-13-01 09:15',
      '2026-00-10 09:15',
      '2026-11-30 24:00',
      '2026-11-30 09:60',
      '2026-11-30',
      '2026-11-30T09:15:00Z',
      '30/11/2026 09:15',
      '',
    ])
      expect(iso(bad, 'Asia/Shanghai'), bad).toBe('NaN');
  });
});
