import { PRIORITY_SLA_FACTOR, slaDeadlines } from './categories.js';
import type { Category, Priority } from './schemas/category.js';
import type { TenantPolicy } from './schemas/admin.js';
import type { Sla } from './schemas/ticket.js';
import { DEADLINE_KINDS, TIMER_STEPS, type DeadlineKind } from './timers.js';
import { addWorkingMinutes, workingMinutesBetween } from './working-time.js';

/** What of a tenant's policy decides how deadlines are counted. */
export type DeadlinePolicy = Pick<TenantPolicy, 'timeZone' | 'workingHours'>;

/** A policy that keeps working hours. */
type WorkingPolicy = DeadlinePolicy & { workingHours: NonNullable<TenantPolicy['workingHours']> };

const DEFAULT_CLOCK_TIME_PRIORITIES: Priority[] = ['urgent'];

/** Whether a priority's deadlines count working hours under this policy. */
function countsWorkingHours(policy: DeadlinePolicy | undefined, priority: Priority): policy is WorkingPolicy {
  const hours = policy?.workingHours;
  return !!hours && !(hours.clockTimeFor ?? DEFAULT_CLOCK_TIME_PRIORITIES).includes(priority);
}

/** When each warning and escalation step of a `span`-minute deadline falls, in working time from `from`. */
function workingSteps(from: Date, span: number, policy: WorkingPolicy): string[] {
  return TIMER_STEPS.map((step) => addWorkingMinutes(from, (span * step) / 100, policy.workingHours, policy.timeZone).toISOString());
}

/** The 100 % step is the deadline itself. */
const deadlineOf = (steps: string[]) => steps[TIMER_STEPS.indexOf(100)]!;

/**
 * Deadlines of a ticket dispatched (or reopened) at `from`: the category's minutes times the
 * priority's factor, around the clock, or in the tenant's working hours when it keeps them and
 * the priority is not one that always runs around the clock.
 */
export function deadlinesFor(category: Category, priority: Priority, from: Date, policy?: DeadlinePolicy): Sla {
  if (!countsWorkingHours(policy, priority)) return slaDeadlines(category, priority, from);
  const factor = PRIORITY_SLA_FACTOR[priority];
  const steps = Object.fromEntries(DEADLINE_KINDS.map((kind) => [kind, workingSteps(from, Math.round(category.sla[kind] * factor), policy)])) as Record<
    DeadlineKind,
    string[]
  >;
  return { respondBy: deadlineOf(steps.respond), arriveBy: deadlineOf(steps.arrive), resolveBy: deadlineOf(steps.resolve), countedIn: 'working_hours', steps };
}

/**
 * The deadlines after an approved extension of the resolve deadline by `minutes`: counted the
 * way the deadlines already are (working minutes for working-hours deadlines).
 */
export function extendResolveDeadline(sla: Sla, from: Date, minutes: number, policy?: DeadlinePolicy): Sla {
  if (sla.countedIn !== 'working_hours' || !policy?.workingHours) {
    const { countedIn: _c, steps: _s, ...clock } = sla;
    return { ...clock, resolveBy: new Date(Date.parse(sla.resolveBy) + minutes * 60_000).toISOString() };
  }
  // Only the resolve deadline moves: its working span grows by `minutes`, from the same start.
  const span = Math.round(workingMinutesBetween(from, new Date(sla.resolveBy), policy.workingHours, policy.timeZone)) + minutes;
  const resolve = workingSteps(from, span, { ...policy, workingHours: policy.workingHours });
  return { ...sla, resolveBy: deadlineOf(resolve), steps: { ...sla.steps!, resolve } };
}
