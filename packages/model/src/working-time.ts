import { wallClock } from './calendar.js';
import type { WorkingHours } from './schemas/admin.js';

/**
 * Time counted in a tenant's working hours: the same opening hours on each working weekday, no
 * hours on holidays, and make-up working days (调休) that are worked although they fall on a
 * weekend. Dates and hours are the tenant's wall clock, through Intl, so any IANA zone works.
 */

const MINUTE = 60_000;
/** Ten years of days: a calendar with no working day at all must not loop for ever. */
const MAX_DAYS = 3660;

/** The instant a wall-clock time of the zone happens (the later one when a clock change repeats it). */
function instantOf(wall: number, timeZone: string): number {
  const first = wall - (wallClock(wall, timeZone) - wall);
  const offset = wallClock(first, timeZone) - first;
  return wall - offset;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const isoDay = (wallMidnight: number) => new Date(wallMidnight).toISOString().slice(0, 10);

/** Whether a date (YYYY-MM-DD) is worked: a make-up day always, a holiday never, otherwise by weekday. */
export function isWorkingDay(hours: WorkingHours, day: string): boolean {
  if (hours.workdays?.includes(day)) return true;
  if (hours.holidays?.includes(day)) return false;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
  return hours.days.includes(weekday);
}

/** The working intervals [open, close) (instants, ms) from the day of `from` on, one per working day. */
function* workingIntervals(hours: WorkingHours, timeZone: string, from: number): Generator<[number, number]> {
  const wall = wallClock(from, timeZone);
  let midnight = wall - (wall % (1440 * MINUTE));
  const [open, close] = [minutesOf(hours.start), minutesOf(hours.end)];
  for (let i = 0; i < MAX_DAYS; i++, midnight += 1440 * MINUTE) {
    if (!isWorkingDay(hours, isoDay(midnight))) continue;
    yield [instantOf(midnight + open * MINUTE, timeZone), instantOf(midnight + close * MINUTE, timeZone)];
  }
}

/**
 * The instant `minutes` of working time after `from`. Counting starts at the next opening when
 * `from` is outside working hours, so a report on Friday evening is due within Monday's hours.
 */
export function addWorkingMinutes(from: Date, minutes: number, hours: WorkingHours, timeZone: string): Date {
  let remaining = Math.max(0, minutes) * MINUTE;
  for (const [open, close] of workingIntervals(hours, timeZone, from.getTime())) {
    const start = Math.max(open, from.getTime());
    if (start >= close) continue;
    if (start + remaining <= close) return new Date(start + remaining);
    remaining -= close - start;
  }
  throw new RangeError('The working calendar has no working time in the next ten years; check its days and holidays.');
}

/** Working minutes between two instants (0 when `to` is not after `from`). */
export function workingMinutesBetween(from: Date, to: Date, hours: WorkingHours, timeZone: string): number {
  let total = 0;
  for (const [open, close] of workingIntervals(hours, timeZone, from.getTime())) {
    if (open >= to.getTime()) break;
    total += Math.max(0, Math.min(close, to.getTime()) - Math.max(open, from.getTime()));
  }
  return total / MINUTE;
}
