import type { Ticket } from '@civicloop/sdk';

export type DeadlineKind = 'respond' | 'arrive' | 'resolve';

export const DEADLINE_LABEL: Record<DeadlineKind, string> = { respond: 'Respond 响应', arrive: 'Arrive 到场', resolve: 'Resolve 办结' };

/** Which deadlines are still to be met in each open state (the others are met or not yet set). */
const PENDING: Partial<Record<Ticket['status'], DeadlineKind[]>> = {
  dispatched: ['respond', 'arrive', 'resolve'],
  accepted: ['arrive', 'resolve'],
  on_site: ['resolve'],
  rework: ['resolve'],
};

export interface NextDeadline {
  kind: DeadlineKind;
  at: number;
  /** Milliseconds left; negative once breached. */
  left: number;
  breached: boolean;
}

/**
 * The deadline a dispatcher must watch: the earliest one the ticket has still to meet. A breached
 * respond deadline therefore shows as breached even while the resolve deadline is hours away.
 */
export function nextDeadline(ticket: Pick<Ticket, 'status' | 'sla'>, now: number): NextDeadline | undefined {
  const sla = ticket.sla;
  if (!sla) return undefined;
  const at = { respond: sla.respondBy, arrive: sla.arriveBy, resolve: sla.resolveBy };
  let next: NextDeadline | undefined;
  for (const kind of PENDING[ticket.status] ?? []) {
    const when = Date.parse(at[kind]);
    if (!next || when < next.at) next = { kind, at: when, left: when - now, breached: when < now };
  }
  return next;
}

/** "2h 30m", "45m", "3d 4h": a span as a dispatcher reads it at a glance. */
export function span(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes >= 24 * 60) return `${Math.floor(minutes / 1440)}d ${Math.floor((minutes % 1440) / 60)}h`;
  if (minutes >= 60) return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return `${minutes}m`;
}

/** What a card says about its deadline: the kind, and time left or how long it is overdue. */
export function deadlineText(ticket: Pick<Ticket, 'status' | 'sla'>, now: number): { text: string; breached: boolean } {
  if (ticket.status === 'reported') return { text: 'Not dispatched 待派', breached: false };
  if (ticket.status === 'resolved') return { text: 'Awaiting verification 待核查', breached: false };
  const next = nextDeadline(ticket, now);
  if (!next) return { text: 'No deadline', breached: false };
  const label = DEADLINE_LABEL[next.kind];
  return next.breached
    ? { text: `${label}: overdue ${span(next.left)} 已超时`, breached: true }
    : { text: `${label}: ${span(next.left)} left`, breached: false };
}

/** How long a ticket has been in the system: "in queue 1h 5m". */
export function ageText(createdAt: string, now: number): string {
  return `age ${span(now - Date.parse(createdAt))}`;
}
