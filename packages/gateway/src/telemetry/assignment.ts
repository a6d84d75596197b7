import type { BadgeCommand, Ticket } from '@civicloop/model';

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
