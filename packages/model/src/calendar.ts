const formatters = new Map<string, Intl.DateTimeFormat>();
/** Last answer per zone, valid for the minute it was computed in (no zone changes day mid-minute). */
const lastByZone = new Map<string, { minute: number; day: string }>();

/**
 * The calendar day (YYYYMMDD) of an instant in a time zone. Formatters are cached: building one
 * costs far more than formatting with it, and this runs for every ticket created.
 */
export function calendarDay(at: Date, timeZone: string): string {
  const minute = Math.floor(at.getTime() / 60_000);
  const last = lastByZone.get(timeZone);
  if (last?.minute === minute) return last.day;
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  const day = formatter.format(at).replaceAll('-', '');
  lastByZone.set(timeZone, { minute, day });
  return day;
}

const wallFormatters = new Map<string, Intl.DateTimeFormat>();

function wallFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = wallFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallFormatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of an instant (ms) in a zone, to the second, as if that wall clock were UTC (ms). */
export function wallClock(at: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const { type, value } of wallFormatter(timeZone).formatToParts(at)) if (type !== 'literal') parts[type] = Number(value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** An instant as the zone's wall clock with its offset, to the second: "2026-11-22T09:05:00+08:00". */
export function zonedIsoTime(at: Date, timeZone: string): string {
  const second = Math.floor(at.getTime() / 1000) * 1000;
  const wall = wallClock(second, timeZone);
  const offsetMinutes = Math.round((wall - second) / 60_000);
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${new Date(wall).toISOString().slice(0, 19)}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A wall-clock time without a zone, as a JSON Schema pattern: "2026-11-30 09:15" or "2026-11-30T09:15:23". */
export const LOCAL_TIME_PATTERN = '^(\\d{4})-(\\d{2})-(\\d{2})[T ](\\d{2}):(\\d{2})(?::(\\d{2}))?$';
const LOCAL_TIME = new RegExp(LOCAL_TIME_PATTERN);

/**
 * The instant (ms) a wall-clock time without a zone names in `timeZone`: "2026-11-30 09:15" or
 * "2026-11-30T09:15:23", as systems that keep local times export them (a 12345 hotline's case
 * list). NaN when it is not such a time, names no real day or hour (30 February, month 13, 25:00), or names
 * a time the zone skipped (a daylight-saving gap). A time the zone had twice is taken the first
 * time.
 */
export function instantOfLocalTime(text: string, timeZone: string): number {
  const m = LOCAL_TIME.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second = '0'] = m.slice(1) as string[];
  const wall = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  // Date.UTC rolls 30 February into March and month 13 into the next year: the fields must come back as given.
  const back = new Date(wall);
  if (
    back.getUTCMonth() + 1 !== Number(month) ||
    back.getUTCDate() !== Number(day) ||
    back.getUTCHours() !== Number(hour) ||
    back.getUTCMinutes() !== Number(minute) ||
    back.getUTCSeconds() !== Number(second)
  )
    return Number.NaN;
  // Every offset the zone has within a day of it (a zone changes offset at most once a day) gives
  // a candidate; those whose wall clock is the one given fit, and the earliest wins.
  const fitting = [wall - 86_400_000, wall, wall + 86_400_000]
    .map((near) => wall - (wallClock(near, timeZone) - near))
    .filter((at) => wallClock(at, timeZone) === wall)
    .sort((a, b) => a - b);
  return fitting[0] ?? Number.NaN;
}
