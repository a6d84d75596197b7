import { CivicLoopError, type Principal, type Ticket, type TicketEvent } from '@civicloop/model';
import type { MediaUrls } from '../media/media-urls.js';

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

/**
 * A ticket as a reader with credentials sees it: a reporter's name and contact hidden from those
 * who are not staff-side, and its stored photos with links signed for this reader.
 */
export function redactFor(principal: Principal, ticket: Ticket, media: MediaUrls, now: Date): Ticket {
  let shown = ticket;
  // Other people's reports are not a citizen's business, not even as "likely duplicates".
  if ((principal.role === 'citizen' || principal.role === 'public') && shown.likelyDuplicates) {
    const { likelyDuplicates: _d, ...rest } = shown;
    shown = rest;
  }
  if (principal.role === 'worker' && shown.anonymous) {
    const { contact: _c, name: _n, ...reporter } = shown.reporter;
    shown = { ...shown, reporter };
  }
  if (shown.photos.length > 0 || shown.afterPhotos.length > 0) shown = { ...shown, photos: media.show(shown.photos, now), afterPhotos: media.show(shown.afterPhotos, now) };
  return shown;
}

/** An event with its stored photos' links signed for the reader. */
export function showEvent(event: TicketEvent, media: MediaUrls, now: Date): TicketEvent {
  return event.photos?.length ? { ...event, photos: media.show(event.photos, now) } : event;
}
