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
