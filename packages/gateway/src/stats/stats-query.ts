import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type STAT_DIMENSIONS, TICKET_STATUSES, type StatGroup } from '@civicloop/model';
import { csvFile } from './csv.js';
import { HANDLING_BUCKETS } from './attribution.js';
import { readWorkforceField } from './workforce.js';
import { StatsStore } from '../store/stats-store.js';

export type StatDimension = (typeof STAT_DIMENSIONS)[number];

const MAX_DAYS = 366;
const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

/** The YYYYMMDD days from `from` to `to`, both included (dates as YYYY-MM-DD). */
function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) throw new CivicLoopError('CL_ERR_VALIDATION', 'from and to are dates like 2026-11-01.');
  if (end < start) throw new CivicLoopError('CL_ERR_VALIDATION', 'to is before from.');
  const count = (end - start) / 86_400_000 + 1;
  if (count > MAX_DAYS) throw new CivicLoopError('CL_ERR_VALIDATION', `At most ${MAX_DAYS} days per request; ask for a shorter range.`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''));
}

function percentile(histogram: number[], share: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const [i, count] of histogram.entries()) {
    seen += count;
    if (seen >= share * total) return Number.isFinite(HANDLING_BUCKETS[i]!) ? HANDLING_BUCKETS[i]! : null;
  }
  return null;
}

/**
 * Reads the statistics of a date range (report days, tenant time zone) from the per-day
 * counters: one hash per day, whatever the number of tickets. Grouped by a dimension or not.
 */
export async function queryStats(redis: Redis | Cluster, tenantId: string, range: { from: string; to: string }, by?: StatDimension): Promise<StatGroup[]> {
  const days = daysBetween(range.from, range.to);
  const stored = await new StatsStore(redis).days(tenantId, days);
  const groups = new Map<string, Map<string, number>>();
  const dayKey = (day: string) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`;
  stored.counters.forEach((hash, i) => {
    for (const [field, value] of Object.entries(hash)) {
      const [dimension, measure] = field.split('|') as [string, string];
      let group: string | undefined;
      if (!by) group = dimension === 'all' ? 'all' : undefined;
      else if (by === 'day') group = dimension === 'all' ? dayKey(days[i]!) : undefined;
      else if (dimension.startsWith(`${by}=`)) group = dimension.slice(by.length + 1);
      if (group === undefined) continue;
      const sums = groups.get(group) ?? new Map<string, number>();
      sums.set(measure, (sums.get(measure) ?? 0) + Number(value));
      groups.set(group, sums);
    }
  });
  // Attendance and vehicles are kept by day and unit: totals, by unit and by day only.
  const workforce = new Map<string, Map<string, number>>();
  if (!by || by === 'unit' || by === 'day') {
    stored.workforce.forEach((hash, i) => {
      for (const [field, value] of Object.entries(hash)) {
        const read = readWorkforceField(field);
        if (!read) continue;
        const group = !by ? 'all' : by === 'unit' ? read.unit : dayKey(days[i]!);
        const sums = workforce.get(group) ?? new Map<string, number>();
        sums.set(read.measure, (sums.get(read.measure) ?? 0) + Number(value));
        workforce.set(group, sums);
      }
    });
  }
  for (const group of workforce.keys()) if (!groups.has(group)) groups.set(group, new Map());
  return [...groups.entries()]
    .map(([key, sums]) => {
      const people = workforce.get(key);
      const staffed = (measure: string) => people?.get(measure) ?? 0;
      const get = (measure: string) => sums.get(measure) ?? 0;
      const byState = Object.fromEntries(TICKET_STATUSES.map((s) => [s, get(`state:${s}`)]).filter(([, n]) => n !== 0));
      const histogram = HANDLING_BUCKETS.map((_, i) => get(`handling:${i}`));
      return {
        key,
        created: get('created'),
        byState,
        onTimeResponseRate: ratio(get('respondedOnTime'), get('responded')),
        completionRate: ratio(get('resolved'), get('created')),
        onTimeCompletionRate: ratio(get('resolvedOnTime'), get('resolved')),
        satisfactionRate: ratio(get('satisfied'), get('rated')),
        sameDayFollowUpRate: ratio(get('sameDay'), get('closed')),
        handlingMinutes: { median: percentile(histogram, 0.5), p90: percentile(histogram, 0.9) },
        attendanceCoverage: ratio(staffed('present'), staffed('roster')),
        vehicleOnlineRate: ratio(staffed('vehiclesOnline'), staffed('vehicleSamples')),
      };
    })
    .filter((g) => g.created > 0 || g.attendanceCoverage !== null || g.vehicleOnlineRate !== null)
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function statsAsCsv(groups: StatGroup[], by: string): string {
  const header = [
    by,
    'created',
    ...TICKET_STATUSES,
    'on_time_response_rate',
    'completion_rate',
    'on_time_completion_rate',
    'satisfaction_rate',
    'same_day_follow_up_rate',
    'handling_minutes_median',
    'handling_minutes_p90',
    'attendance_coverage',
    'vehicle_online_rate',
  ];
  const rows = groups.map((g) => [
    g.key,
    g.created,
    ...TICKET_STATUSES.map((s) => g.byState[s] ?? 0),
    g.onTimeResponseRate,
    g.completionRate,
    g.onTimeCompletionRate,
    g.satisfactionRate,
    g.sameDayFollowUpRate,
    g.handlingMinutes.median,
    g.handlingMinutes.p90,
    g.attendanceCoverage,
    g.vehicleOnlineRate,
  ]);
  return csvFile(header, rows);
}
