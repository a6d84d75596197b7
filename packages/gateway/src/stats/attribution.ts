import { calendarDay, findCategory, slaDeadlines, type Priority, type Ticket, type TicketEvent, type TicketStatus } from '@civicloop/model';

/**
 * What a ticket contributes to the statistics, kept per ticket so that a change (a new state, a
 * new responsible unit, a rating) moves exactly its own contributions. Buckets are by the day
 * the ticket was reported, in the tenant's time zone.
 */
export interface Attribution {
  day: string;
  createdAt: string;
  category: string;
  channel: string;
  zone: string;
  unit: string;
  priority: Priority;
  state: TicketStatus;
  respondBy?: string;
  resolveBy?: string;
  dispatched?: boolean;
  responded?: boolean;
  respondedOnTime?: boolean;
  resolved?: boolean;
  resolvedOnTime?: boolean;
  handlingBucket?: number;
  closed?: boolean;
  rated?: boolean;
  satisfied?: boolean;
  sameDay?: boolean;
}

/** Upper bounds (minutes) of the handling-time histogram: report to first resolve. */
export const HANDLING_BUCKETS = [15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, Number.POSITIVE_INFINITY];

export const NONE = '-';

/** What counting a new report needs: its time, category, channel, priority and place. */
export type ReportFacts = Pick<Ticket, 'createdAt' | 'category' | 'channel' | 'priority'> & { location: { lat: number; lon: number } };

export function newAttribution(ticket: ReportFacts, zone: string | undefined, timeZone: string): Attribution {
  return {
    day: calendarDay(new Date(ticket.createdAt), timeZone),
    createdAt: ticket.createdAt,
    category: ticket.category,
    channel: ticket.channel,
    zone: zone ?? NONE,
    unit: NONE,
    priority: ticket.priority,
    state: 'reported',
  };
}

/**
 * The deadlines an event set: as the event records them (counted the tenant's way, in working
 * hours or not), or for events from before they did, worked out around the clock.
 */
function deadlinesFrom(a: Attribution, priority: Priority, at: string, recorded: unknown): Pick<Attribution, 'respondBy' | 'resolveBy'> {
  const given = recorded as { respondBy?: unknown; resolveBy?: unknown } | null | undefined;
  if (typeof given?.respondBy === 'string' && typeof given.resolveBy === 'string') return { respondBy: given.respondBy, resolveBy: given.resolveBy };
  const category = findCategory(a.category);
  if (!category) return {};
  const sla = slaDeadlines(category, priority, new Date(at));
  return { respondBy: sla.respondBy, resolveBy: sla.resolveBy };
}

/** When a step was done: an action a worker took offline says so (`occurredAt`); otherwise when it was recorded. */
function doneAt(event: TicketEvent, data: Record<string, unknown>): string {
  return typeof data.occurredAt === 'string' ? data.occurredAt : event.at;
}

/** The attribution after an event (a new object; the input is not changed). */
export function applyEvent(before: Attribution, event: TicketEvent): Attribution {
  const a: Attribution = { ...before, state: event.to };
  const data = (event.data ?? {}) as Record<string, unknown>;
  switch (event.type) {
    case 'dispatched':
      a.unit = String(data.unitId ?? NONE);
      a.priority = (data.priority as Priority | undefined) ?? a.priority;
      a.dispatched = true;
      Object.assign(a, deadlinesFrom(a, a.priority, event.at, data.sla));
      break;
    case 'reassigned':
      a.unit = String(data.unitId ?? a.unit);
      break;
    case 'returned':
      a.unit = NONE;
      delete a.respondBy;
      delete a.resolveBy;
      break;
    case 'reopened':
      Object.assign(a, deadlinesFrom(a, a.priority, event.at, data.sla));
      break;
    case 'extension_approved':
      if (typeof data.resolveBy === 'string') a.resolveBy = data.resolveBy;
      break;
    case 'accepted':
      if (!a.responded) {
        a.responded = true;
        a.respondedOnTime = a.respondBy !== undefined && doneAt(event, data) <= a.respondBy;
      }
      break;
    case 'resolved':
      if (!a.resolved) {
        a.resolved = true;
        a.resolvedOnTime = a.resolveBy !== undefined && doneAt(event, data) <= a.resolveBy;
        const minutes = (Date.parse(doneAt(event, data)) - Date.parse(a.createdAt)) / 60_000;
        a.handlingBucket = HANDLING_BUCKETS.findIndex((bound) => minutes <= bound);
      }
      break;
    case 'verified':
      if (event.to === 'closed') a.closed = true;
      break;
    case 'feedback_recorded':
      if (!a.rated) {
        a.rated = true;
        a.satisfied = Number(data.rating) >= 4;
        a.sameDay = data.sameDay === true;
      }
      if (data.reopened === true) Object.assign(a, deadlinesFrom(a, a.priority, event.at, data.sla));
      break;
    default:
      break;
  }
  return a;
}

/** The measures an attribution counts one in, in a fixed order. */
function measuresOf(a: Attribution): string[] {
  const measures = ['created', `state:${a.state}`];
  if (a.dispatched) measures.push('dispatched');
  if (a.responded) measures.push('responded');
  if (a.respondedOnTime) measures.push('respondedOnTime');
  if (a.resolved) measures.push('resolved');
  if (a.resolvedOnTime) measures.push('resolvedOnTime');
  if (a.handlingBucket !== undefined && a.handlingBucket >= 0) measures.push(`handling:${a.handlingBucket}`);
  if (a.closed) measures.push('closed');
  if (a.rated) measures.push('rated');
  if (a.satisfied) measures.push('satisfied');
  if (a.sameDay) measures.push('sameDay');
  return measures;
}

/** The dimensions it is counted under, always five, in a fixed order; no two share a prefix, so no two share a field. */
function dimensionsOf(a: Attribution): string[] {
  return ['all', `category=${a.category}`, `channel=${a.channel}`, `unit=${a.unit}`, `zone=${a.zone}`];
}

/** Every hash field (dimension|measure) this attribution counts one in. */
export function contributions(a: Attribution): string[] {
  const measures = measuresOf(a);
  return dimensionsOf(a).flatMap((d) => measures.map((m) => `${d}|${m}`));
}

/**
 * Field -> change, to go from one attribution's counts to another's. A dimension whose value and
 * measures are unchanged would add and take away the same ones: it is skipped, since most events
 * change one dimension (a reassignment, the unit) or the measures alone (a new state). The
 * result is what subtracting every field of `before` and adding every field of `after` gives.
 */
export function difference(before: Attribution | undefined, after: Attribution): Map<string, number> {
  // A ticket counted for the first time: one in each of its fields (no field repeats).
  if (!before) return new Map(contributions(after).map((field) => [field, 1]));
  const delta = new Map<string, number>();
  const change = (field: string, by: number) => delta.set(field, (delta.get(field) ?? 0) + by);
  const [beforeMeasures, afterMeasures] = [measuresOf(before), measuresOf(after)];
  const [beforeDimensions, afterDimensions] = [dimensionsOf(before), dimensionsOf(after)];
  const sameMeasures = beforeMeasures.length === afterMeasures.length && beforeMeasures.every((m, i) => m === afterMeasures[i]);
  for (const [i, dimension] of afterDimensions.entries()) {
    if (sameMeasures && beforeDimensions[i] === dimension) continue;
    for (const m of beforeMeasures) change(`${beforeDimensions[i]}|${m}`, -1);
    for (const m of afterMeasures) change(`${dimension}|${m}`, 1);
  }
  for (const [field, change] of delta) if (change === 0) delta.delete(field);
  return delta;
}
