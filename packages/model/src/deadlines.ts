import { PRIORITY_SLA_FACTOR, slaDeadlines } from './categories.js';
import type { Category, Priority } from './schemas/category.js';
import type { TenantPolicy } from './schemas/admin.js';
import type { Sla } from './schemas/ticket.js';
import { DEADLINE_KINDS, TIMER_STEPS, type DeadlineKind } from './timers.js';
import { addWorkingMinutes, workingMinutesBetween } from './working-time.js';

/** What of a tenant's policy decides how deadlines are counted. */
export type DeadlinePolicy = Pick<TenantPolicy, 'timeZone' | 'workingHours'>;

const DEFAULT_CLOCK_TIME_PRIORITIES: Priority[] = ['urgent'];

/** Whether a priority's deadlines count working hours under this policy. */
function countsWorkingHours(policy: DeadlinePolicy | undefined, priority: Priority): policy is DeadlinePolicy & { workingHours: NonNullable<TenantPolicy['workingHours']> } {
  const hours = policy?.workingHours;
  return !!hours && !(hours.clockTimeFor ?? DEFAULT_CLOCK_TIME_PRIORITIES).includes(priority);
}

function workingSla(from: Date, spans: Record<DeadlineKind, number>, policy: DeadlinePolicy & { workingHours: NonNullable<TenantPolicy['workingHours']> }): Sla {
  const at = (minutes: number) => addWorkingMinutes(from, minutes, policy.workingHours, policy.timeZone).toISOString();
  const steps = Object.fromEntries(DEADLINE_KINDS.map((kind) => [kind, TIMER_STEPS.map((step) => at((spans[kind] * step) / 100))])) as Record<DeadlineKind, string[]>;
  return { respondBy: at(spans.respond), arriveBy: at(spans.arrive), resolveBy: at(spans.resolve), countedIn: 'working_hours', steps };
}

/**
 * Deadlines of a ticket dispatched (or reopened) at `from`: the category's minutes times the
 * priority's factor, around the clock, or in the tenant's working hours when it keeps them and
 * the priority is not one that always runs around the clock.
 */
export function deadlinesFor(category: Category, priority: Priority, from: Date, policy?: DeadlinePolicy): Sla {
  if (!countsWorkingHours(policy, priority)) return slaDeadlines(category, priority, from);
  const factor = PRIORITY_SLA_FACTOR[priority];
  const span = (minutes: number) => Math.round(minutes * factor);
  return workingSla(from, { respond: span(category.sla.respond), arrive: span(category.sla.arrive), resolve: span(category.sla.resolve) }, policy);
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
  const hours = { ...policy, workingHours: policy.workingHours };
  const spanOf = (by: string) => Math.round(workingMinutesBetween(from, new Date(by), hours.workingHours, hours.timeZone));
  const extended = workingSla(from, { respond: spanOf(sla.respondBy), arrive: spanOf(sla.arriveBy), resolve: spanOf(sla.resolveBy) + minutes }, hours);
  // Responding and arriving keep their exact times: only the resolve deadline moves.
  return { ...extended, respondBy: sla.respondBy, arriveBy: sla.arriveBy, steps: { ...extended.steps!, respond: sla.steps!.respond, arrive: sla.steps!.arrive } };
}
