import { CivicLoopError, type Principal, type Ticket } from '@civicloop/model';

/** Citizens see what they reported or follow; staff and servers see the tenant's tickets. */
export function canSee(principal: Principal, ticket: Ticket): boolean {
  if (principal.role === 'public') return false;
  if (principal.role !== 'citizen') return true;
  return ticket.reporter.sub === principal.sub || ticket.followers.includes(principal.sub);
}

/** Not-found rather than forbidden, so nobody learns that someone else's ticket exists. */
export function mustSee(principal: Principal, ticket: Ticket | undefined, id: string): Ticket {
  if (!ticket || !canSee(principal, ticket)) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ticket ${id} visible to you in this tenant.`);
  return ticket;
}

/** What a reporter's name and contact look like to someone who is not staff-side. */
export function redactFor(principal: Principal, ticket: Ticket): Ticket {
  // Other people's reports are not a citizen's business, not even as "likely duplicates".
  if ((principal.role === 'citizen' || principal.role === 'public') && ticket.likelyDuplicates) {
    const { likelyDuplicates: _d, ...rest } = ticket;
    return rest;
  }
  if (principal.role === 'worker' && ticket.anonymous) {
    const { contact: _c, name: _n, ...reporter } = ticket.reporter;
    return { ...ticket, reporter };
  }
  return ticket;
}
