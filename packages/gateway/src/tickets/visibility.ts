import { CivicLoopError, type Actor, type Principal, type Ticket, type TicketEvent } from '@civicloop/model';
import type { MediaUrls } from '../media/media-urls.js';
import { isOwnSubject, partnerOfSubject } from '../auth/partner-scope.js';

/**
 * Citizens see what they reported or follow; a partner's server what its residents, its
 * publishable key or its hotline reported or follow; staff and the tenant's servers see the
 * tenant's tickets.
 */
export function canSee(principal: Principal, ticket: Ticket): boolean {
  if (principal.role === 'public') return false;
  if (principal.role === 'partner') {
    return (
      principal.partnerId !== undefined &&
      (ticket.partnerId === principal.partnerId || ticket.followers.some((f) => partnerOfSubject(f) === principal.partnerId))
    );
  }
  if (principal.role !== 'citizen') return true;
  return ticket.reporter.sub === principal.sub || ticket.followers.includes(principal.sub);
}

/** Readers on the residents' side (a citizen, a partner's server, a browser) see only their own people. */
function residentSide(principal: Principal): boolean {
  return principal.role === 'citizen' || principal.role === 'partner' || principal.role === 'public';
}

/** A resident who is not the reader's, as the reader sees them: the role, nothing that identifies. */
function hiddenActor(actor: Actor): Actor {
  return { sub: 'resident', role: actor.role };
}

/** Whether an actor is another resident (or another partner's) that this reader may not know of. */
function foreignResident(reader: Principal, actor: Pick<Actor, 'sub' | 'role'>): boolean {
  return (actor.role === 'citizen' || actor.role === 'public' || actor.role === 'partner') && !isOwnSubject(reader, actor.sub);
}

/** The ticket as a resident-side reader sees it: other residents (another partner's, or merged reporters) reduced to their role. */
function withoutOtherResidents(principal: Principal, ticket: Ticket): Ticket {
  const ownReport = principal.role === 'partner' ? ticket.partnerId === principal.partnerId : ticket.reporter.sub === principal.sub;
  const followers = ticket.followers.filter((f) => isOwnSubject(principal, f));
  const feedbackBy =
    ticket.feedback && foreignResident(principal, ticket.feedback.by) ? { ...ticket.feedback, by: hiddenActor(ticket.feedback.by) } : ticket.feedback;
  if (ownReport && followers.length === ticket.followers.length && feedbackBy === ticket.feedback) return ticket;
  return {
    ...ticket,
    followers,
    ...(ownReport ? {} : { reporter: { sub: 'resident', role: ticket.reporter.role } }),
    ...(feedbackBy ? { feedback: feedbackBy } : {}),
  };
}

/** Not-found rather than forbidden, so nobody learns that someone else's ticket exists. */
export function mustSee(principal: Principal, ticket: Ticket | undefined, id: string): Ticket {
  if (!ticket || !canSee(principal, ticket)) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ticket ${id} visible to you in this tenant.`);
  return ticket;
}

/**
 * A ticket as a reader with credentials sees it: a reporter's name and contact hidden from those
 * who are not staff-side, and its stored photos with links signed for this reader.
 */
export function redactFor(principal: Principal, ticket: Ticket, media: MediaUrls, now: Date): Ticket {
  let shown = residentSide(principal) ? withoutOtherResidents(principal, ticket) : ticket;
  // Other people's reports are not a citizen's business, not even as "likely duplicates".
  if (residentSide(principal) && shown.likelyDuplicates) {
    const { likelyDuplicates: _d, ...rest } = shown;
    shown = rest;
  }
  if (principal.role === 'worker' && shown.anonymous) {
    const { contact: _c, name: _n, ...reporter } = shown.reporter;
    shown = { ...shown, reporter };
  }
  const photos = media.show(shown.photos, now);
  const afterPhotos = media.show(shown.afterPhotos, now);
  if (photos !== shown.photos || afterPhotos !== shown.afterPhotos) shown = { ...shown, photos, afterPhotos };
  return shown;
}

/** An event as this reader sees it: other residents reduced to their role, stored photos' links signed for the reader. */
export function showEvent(principal: Principal, event: TicketEvent, media: MediaUrls, now: Date): TicketEvent {
  const shown = redactEvent(principal, event);
  return shown.photos?.length ? { ...shown, photos: media.show(shown.photos, now) } : shown;
}

/** An event without the residents a resident-side reader may not know of (who acted, who was added as follower). */
export function redactEvent(principal: Principal, event: TicketEvent): TicketEvent {
  if (!residentSide(principal)) return event;
  const follower = event.data?.follower;
  const hideFollower = typeof follower === 'string' && !isOwnSubject(principal, follower);
  const hideActor = foreignResident(principal, event.actor);
  if (!hideFollower && !hideActor) return event;
  return {
    ...event,
    ...(hideActor ? { actor: hiddenActor(event.actor) } : {}),
    ...(hideFollower ? { data: { ...event.data, follower: 'resident' } } : {}),
  };
}
