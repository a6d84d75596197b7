import type { Ticket } from '@civicloop/sdk';
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
