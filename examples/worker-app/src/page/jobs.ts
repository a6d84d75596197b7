import type { Ticket, TicketEvent } from '@civicloop/sdk';
import type { JobCommand, QueuedAction } from './outbox.js';

/** The states a job is the worker's to work in. */
export const WORKING_STATES = ['dispatched', 'accepted', 'on_site', 'rework'] as const;
export type WorkingState = (typeof WORKING_STATES)[number];

/** Where a command takes a job, for showing it as it will be once the phone's queued actions are sent. */
const LEADS_TO: Record<JobCommand, (status: Ticket['status']) => Ticket['status']> = {
  accept: () => 'accepted',
  arrive: () => 'on_site',
  rework: () => 'on_site',
  resolve: () => 'resolved',
  return: () => 'reported',
  request_extension: (status) => status,
};

/**
 * The states in which a command's effect is already there: an `arrive` taken by hand offline,
 * sent after the badge's positions made the gateway mark the arrival, has nothing left to do.
 */
export const ALREADY_DONE: Partial<Record<JobCommand, readonly Ticket['status'][]>> = {
  accept: ['accepted', 'on_site', 'resolved', 'closed'],
  arrive: ['on_site', 'resolved', 'closed'],
  rework: ['on_site', 'resolved', 'closed'],
  resolve: ['resolved', 'closed'],
};

/** The job's state once its queued actions are sent. */
export function predictedStatus(ticket: Ticket, queued: QueuedAction[]): Ticket['status'] {
  return queued.filter((a) => a.ticketId === ticket.id).reduce((status, action) => LEADS_TO[action.command](status), ticket.status);
}

export function isWorking(status: Ticket['status']): status is WorkingState {
  return (WORKING_STATES as readonly string[]).includes(status);
}

/** What the worker is told when a job is taken from them, by the event that took it. */
export type Taken = 'takenReassigned' | 'takenReturned' | 'takenMerged';
export const TAKEN_BY: Partial<Record<TicketEvent['type'], Taken>> = {
  reassigned: 'takenReassigned',
  returned: 'takenReturned',
  merged: 'takenMerged',
};

/** The events that give a job to someone or take it away: the newest of them says whose the job is now. */
const ASSIGNING: ReadonlySet<TicketEvent['type']> = new Set(['dispatched', 'reassigned', 'returned', 'merged', 'reopened']);

/**
 * How someone else took a job from the worker `me`, read from the ticket's history (oldest event
 * first): for a job that left the worker's list while the phone heard no event (offline, or the
 * app closed). Nothing when the newest assigning event did not take it from them, or they did it
 * themselves (their own return they know of).
 */
export function howTaken(history: readonly TicketEvent[], me: string): Taken | undefined {
  // Not findLast: the page is built for ES2022 phones.
  const last = [...history].reverse().find((event) => ASSIGNING.has(event.type));
  const taken = last && TAKEN_BY[last.type];
  if (!taken || last.actor.sub === me) return undefined;
  const from = last.type === 'reassigned' ? last.data?.fromAssigneeId : last.type === 'returned' ? last.data?.assigneeId : me;
  return from === me ? taken : undefined;
}
