import { calendarDay, type Device, type Staff } from '@civicloop/model';
import type { Shift } from '../store/fleet-reads.js';

export type Attendance = {
  day: string;
  shifts: (Omit<Shift, 'start' | 'end'> & { start: string; end: string; minutes: number })[];
  onDuty: { deviceId: string; staffId: string | null; unitId: string | null; since: string }[];
  /** Per unit with active workers: how many of them were present (a finished shift or checked in). */
  coverage: { unitId: string; workers: number; present: number; coverage: number }[];
};

/**
 * A day's attendance (`day` as YYYY-MM-DD in the tenant's time zone): the shifts finished that
 * day, the badges checked in since that day or before, and each unit's coverage.
 */
export function attendanceOf(
  day: string,
  timeZone: string,
  read: { finished: Shift[]; onDuty: Map<string, number> },
  devices: readonly Device[],
  staff: readonly Staff[],
): Attendance {
  const compact = day.replaceAll('-', '');
  const byId = new Map(devices.map((d) => [d.id, d]));
  const onDuty = [...read.onDuty]
    .filter(([, since]) => calendarDay(new Date(since), timeZone) <= compact)
    .map(([deviceId, since]) => ({
      deviceId,
      staffId: byId.get(deviceId)?.staffId ?? null,
      unitId: byId.get(deviceId)?.unitId ?? null,
      since: new Date(since).toISOString(),
    }));
  const present = new Map<string, Set<string>>();
  const people = [...read.finished, ...onDuty.map((o) => ({ staffId: o.staffId ?? undefined, unitId: o.unitId ?? undefined }))];
  for (const { staffId, unitId } of people) {
    if (!staffId || !unitId) continue;
    if (!present.has(unitId)) present.set(unitId, new Set());
    present.get(unitId)!.add(staffId);
  }
  const workersByUnit = new Map<string, number>();
  for (const person of staff) {
    if (person.active && person.role === 'worker' && person.unitId) workersByUnit.set(person.unitId, (workersByUnit.get(person.unitId) ?? 0) + 1);
  }
  const coverage = [...workersByUnit.entries()].map(([unitId, workers]) => {
    const count = present.get(unitId)?.size ?? 0;
    return { unitId, workers, present: count, coverage: workers ? count / workers : 0 };
  });
  return {
    day,
    shifts: read.finished.map((s) => ({
      ...s,
      start: new Date(s.start).toISOString(),
      end: new Date(s.end).toISOString(),
      minutes: Math.round((s.end - s.start) / 60_000),
    })),
    onDuty,
    coverage,
  };
}
