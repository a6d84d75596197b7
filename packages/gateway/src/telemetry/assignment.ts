import { CivicLoopError, type BadgeCommand, type Device, type Principal, type Ticket, type TicketEvent, type WithdrawalReason } from '@civicloop/model';
import type { TicketService } from '../tickets/ticket-service.js';

/** What a badge is told about a ticket it is given. */
export function assignmentCommand(ticket: Ticket): Extract<BadgeCommand, { type: 'assignment' }> {
  return {
    type: 'assignment',
    ticketId: ticket.id,
    number: ticket.number,
    category: ticket.category,
    description: ticket.description,
    location: { lat: ticket.location.lat, lon: ticket.location.lon, ...(ticket.location.address ? { address: ticket.location.address } : {}) },
    priority: ticket.priority,
    ...(ticket.sla ? { resolveBy: ticket.sla.resolveBy } : {}),
  };
}

/** Events after which the ticket's devices are sent its assignment. */
export const ASSIGNING_EVENTS: readonly string[] = ['dispatched', 'reassigned', 'reopened'];

/**
 * Whose badge must hear that a ticket is no longer theirs after an event, and what it is told:
 * the worker it was taken from by a reassignment to anyone else (another worker, or the unit
 * with nobody named), the worker it was returned from, the worker of a dispatched ticket merged
 * into another. Undefined when the event takes it from nobody.
 */
export function withdrawalAfter(ticket: Ticket, event: TicketEvent): { staffId: string; command: BadgeCommand } | undefined {
  const data = event.data ?? {};
  const from = (reason: WithdrawalReason, staffId: unknown) =>
    typeof staffId === 'string' ? { staffId, command: { type: 'withdrawal' as const, ticketId: ticket.id, number: ticket.number, reason } } : undefined;
  switch (event.type) {
    case 'reassigned':
      return data.fromAssigneeId === ticket.assigneeId ? undefined : from('reassigned', data.fromAssigneeId);
    case 'returned':
      return from('returned', data.assigneeId);
    case 'merged':
      return from('merged', ticket.assigneeId);
    default:
      return undefined;
  }
}

/**
 * What the assigned worker's devices hear when a supervisor finds the work not done (a failed
 * verification, `rework_requested`): the ticket is theirs again, with the supervisor's note of
 * what is still wrong, so that a worker with only a badge or a vehicle's terminal goes back too.
 * Undefined after any other event, or for a ticket with nobody assigned.
 */
export function reworkAfter(ticket: Ticket, event: TicketEvent): { staffId: string; command: BadgeCommand } | undefined {
  if (event.type !== 'rework_requested' || !ticket.assigneeId) return undefined;
  return { staffId: ticket.assigneeId, command: { ...assignmentCommand(ticket), type: 'rework', note: event.note ?? '' } };
}

/**
 * What an OwnTracks phone, whose regions are its wearer's jobs (owntracks-jobs.ts), must hear
 * after an event that changes those jobs without an assignment, a withdrawal or a rework: the
 * wearer resolved the ticket, and it leaves them. Other devices are not told: a badge or a
 * terminal shows what it was given and taken, and the worker who resolved it knows. The phone
 * turns it into its jobs as they are then.
 */
export function ownTracksResyncAfter(ticket: Ticket, event: TicketEvent): { staffId: string; command: BadgeCommand } | undefined {
  if (!ticket.assigneeId || event.type !== 'resolved') return undefined;
  return { staffId: ticket.assigneeId, command: { type: 'withdrawal', ticketId: ticket.id, number: ticket.number, reason: 'resolved' } };
}

/** What a driver may answer an assignment with on a vehicle's terminal (jt808/listener.ts asks). */
export type AssignmentAnswer = 'accept' | 'return';

/**
 * A driver's answer to an assignment on the vehicle's terminal, acted on as that driver (the
 * vehicle's staffId, as arrival by position acts as the badge's wearer): 接单 accepts the ticket,
 * 退回 gives it back to the dispatchers. The state machine decides as for the worker's own app:
 * a ticket reassigned meanwhile is not theirs to accept.
 */
export async function answerAsDriver(tickets: TicketService, tenantId: string, device: Device, ticketId: string, answer: AssignmentAnswer): Promise<void> {
  if (!device.staffId) throw new CivicLoopError('CL_ERR_FORBIDDEN', `Vehicle ${device.id} has no driver to answer for.`);
  const driver: Principal = { tenantId, sub: device.staffId, role: 'worker', via: 'token', ...(device.unitId ? { unitId: device.unitId } : {}) };
  if (answer === 'accept') await tickets.run(driver, ticketId, 'accept', {}, undefined);
  else await tickets.run(driver, ticketId, 'return', { reason: `退回 on the terminal of ${device.name}` }, undefined);
}
