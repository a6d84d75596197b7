import type { Actor } from './schemas/principal.js';
import type { Ticket, TicketEvent } from './schemas/ticket.js';
import { parseIsoTime } from './iso-time.js';

/**
 * Time limits and follow-up. Each deadline of a dispatched ticket (respond = accept, arrive, resolve) is
 * watched from the dispatch time: warnings at 50 % and 75 % of its span, an escalation (督办) at
 * 100 %, and further escalation levels at 150 % and 200 % (of its working time, for deadlines
 * counted in working hours). Pure functions of the ticket and the
 * time: the gateway's scheduler keeps the next milestone of every ticket in a sorted set and asks
 * these what is due.
 */
export const DEADLINE_KINDS = ['respond', 'arrive', 'resolve'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];
export const TIMER_STEPS = [50, 75, 100, 150, 200] as const;

export const SCHEDULER_ACTOR: Actor = { sub: 'system:scheduler', role: 'service', name: 'Time limits' };

const UNDER_WAY = ['dispatched', 'accepted', 'on_site', 'rework'];

/** Deadlines still to be met: respond until accepted, arrive until on site, resolve until resolved. */
function pending(ticket: Ticket): DeadlineKind[] {
  if (!ticket.sla || !ticket.dispatchedAt || !UNDER_WAY.includes(ticket.status)) return [];
  const out: DeadlineKind[] = [];
  if (ticket.status === 'dispatched' && !ticket.acceptedAt) out.push('respond');
  if ((ticket.status === 'dispatched' || ticket.status === 'accepted') && !ticket.arrivedAt) out.push('arrive');
  out.push('resolve');
  return out;
}

function stepTime(ticket: Ticket, kind: DeadlineKind, step: number): number {
  // Counted in working hours, the steps were worked out at dispatch (a straight line would
  // put the 50 % warning in the night).
  const worked = ticket.sla!.steps?.[kind][TIMER_STEPS.indexOf(step as (typeof TIMER_STEPS)[number])];
  if (worked) return parseIsoTime(worked);
  const start = parseIsoTime(ticket.dispatchedAt!);
  const end = parseIsoTime(ticket.sla![`${kind}By`]);
  return start + ((end - start) * step) / 100;
}

/** The highest step of a deadline already reached at `now` (0 when none). */
export function stepReached(ticket: Ticket, kind: DeadlineKind, now: number): number {
  let reached = 0;
  for (const step of TIMER_STEPS) if (stepTime(ticket, kind, step) <= now) reached = step;
  return reached;
}

/** A closed ticket whose reporter has not been asked yet, nor has answered since the close. */
function followUpDue(ticket: Ticket): number | undefined {
  if (ticket.status !== 'closed' || !ticket.closedAt) return undefined;
  if (ticket.followUpRequestedAt && ticket.followUpRequestedAt >= ticket.closedAt) return undefined;
  if (ticket.feedback && ticket.feedback.at >= ticket.closedAt) return undefined;
  // A public (anonymous browser) reporter cannot be reached; nobody to ask.
  if (ticket.reporter.role === 'public') return undefined;
  return parseIsoTime(ticket.closedAt);
}

/** When the ticket's next warning, escalation or follow-up falls due, or undefined when nothing is watched. */
export function nextMilestone(ticket: Ticket): { at: number; deadline: DeadlineKind | 'followup'; step: number } | undefined {
  const followUp = followUpDue(ticket);
  if (followUp !== undefined) return { at: followUp, deadline: 'followup', step: 0 };
  let next: { at: number; deadline: DeadlineKind; step: number } | undefined;
  for (const kind of pending(ticket)) {
    const done = ticket.timers?.[kind] ?? 0;
    const step = TIMER_STEPS.find((s) => s > done);
    if (step === undefined) continue;
    const at = stepTime(ticket, kind, step);
    if (!next || at < next.at) next = { at, deadline: kind, step };
  }
  return next;
}

/**
 * The event for the most serious milestone due now, with the ticket as it becomes, or undefined
 * when nothing is due. Steps passed while nobody watched (a stopped gateway) are not replayed one
 * by one: the highest one reached is recorded once.
 */
export function applyDueMilestone(ticket: Ticket, now: Date): { ticket: Ticket; event: TicketEvent } | undefined {
  const followUp = followUpDue(ticket);
  if (followUp !== undefined) return followUp <= now.getTime() ? requestFollowUp(ticket, now) : undefined;
  let due: { deadline: DeadlineKind; step: number } | undefined;
  for (const kind of pending(ticket)) {
    const step = stepReached(ticket, kind, now.getTime());
    if (step > (ticket.timers?.[kind] ?? 0) && (!due || step > due.step)) due = { deadline: kind, step };
  }
  if (!due) return undefined;
  const at = now.toISOString();
  const version = ticket.version + 1;
  const escalation = due.step >= 100 ? 1 + (due.step - 100) / 50 : undefined;
  const dueAt = ticket.sla![`${due.deadline}By`];
  const next: Ticket = Object.assign({}, ticket, {
    version,
    updatedAt: at,
    overdue: undefined,
    timers: { ...ticket.timers, [due.deadline]: due.step },
    ...(escalation ? { escalationLevel: Math.max(ticket.escalationLevel ?? 0, escalation) } : {}),
  });
  const event: TicketEvent = {
    id: `${ticket.id}:${version}`,
    ticketId: ticket.id,
    version,
    type: escalation ? 'escalated' : 'deadline_warning',
    from: ticket.status,
    to: ticket.status,
    actor: SCHEDULER_ACTOR,
    at,
    data: {
      deadline: due.deadline,
      percent: due.step,
      dueAt,
      ...(escalation ? { level: escalation, overdueMinutes: Math.max(0, Math.round((now.getTime() - Date.parse(dueAt)) / 60_000)) } : {}),
    },
  };
  return { ticket: next, event };
}

/**
 * The follow-up (回访) after a close: one event asking the reporter to rate the outcome. Their
 * app or the widget shows the rating form on it; a hotline agent calls those without one and
 * records the answer as feedback (via phone).
 */
function requestFollowUp(ticket: Ticket, now: Date): { ticket: Ticket; event: TicketEvent } {
  const at = now.toISOString();
  const version = ticket.version + 1;
  return {
    ticket: Object.assign({}, ticket, { version, updatedAt: at, overdue: undefined, followUpRequestedAt: at }),
    event: {
      id: `${ticket.id}:${version}`,
      ticketId: ticket.id,
      version,
      type: 'followup_requested',
      from: ticket.status,
      to: ticket.status,
      actor: SCHEDULER_ACTOR,
      at,
      data: { reporter: ticket.reporter.sub, ...(ticket.reporter.contact ? { callBack: true } : {}) },
    },
  };
}
