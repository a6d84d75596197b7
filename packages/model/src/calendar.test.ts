import { describe, expect, it } from 'vitest';
import { calendarDay, zonedIsoTime } from './calendar.js';

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
});
