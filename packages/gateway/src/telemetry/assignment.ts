import type { BadgeCommand, Ticket, TicketEvent, WithdrawalReason } from '@civicloop/model';

/** What a badge is told about a ticket it is given. */
export function assignmentCommand(ticket: Ticket): BadgeCommand {
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
