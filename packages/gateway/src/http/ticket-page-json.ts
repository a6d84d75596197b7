import { Ticket, type TicketPage } from '@civicloop/model';
import { isSharedTicket } from '../store/ticket-read-cache.js';
import { buildSerializer } from './serialization.js';

type Serialise = (ticket: Ticket) => string;

const COMMA = Buffer.from(',');
const ITEMS_OPEN = Buffer.from('{"items":[');

/**
 * Writes a page of tickets as `GET /v1/tickets` answers it, byte for byte what fastify's serialiser
 * for the route's schema (TicketPage) writes: each ticket by the same serialiser built from the
 * Ticket schema, the page around them by hand. A ticket the store's read cache shares between
 * pages, shown to this reader unchanged (not redacted, no photo links signed, no other CRS), is
 * written once, as UTF-8, and reused until the ticket changes: serialising and encoding it again
 * was work repeated on every page, and a list is read far more often than its tickets change. The
 * memo is keyed by the shared ticket object, so it goes when the read cache lets the ticket go.
 */
export class TicketPageWriter {
  private readonly serialise: Serialise;
  private readonly written = new WeakMap<Ticket, Buffer>();

  constructor() {
    this.serialise = buildSerializer()({ schema: Ticket, method: 'GET', url: '/v1/tickets', httpStatus: '200' }) as Serialise;
  }

  /** The JSON of one ticket as this reader is shown it (`shown`, made from `listed` by redaction and CRS). */
  ticket(listed: Ticket, shown: Ticket): Buffer {
    if (shown !== listed || !isSharedTicket(listed)) return Buffer.from(this.serialise(shown));
    let json = this.written.get(listed);
    if (!json) {
      json = Buffer.from(this.serialise(listed));
      this.written.set(listed, json);
    }
    return json;
  }

  /** The whole page: `shown[i]` is how this reader sees `page.items[i]`. */
  page(page: TicketPage, shown: Ticket[]): Buffer {
    const parts: Buffer[] = [ITEMS_OPEN];
    shown.forEach((ticket, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(this.ticket(page.items[i]!, ticket));
    });
    parts.push(Buffer.from(`],"nextCursor":${page.nextCursor === null ? 'null' : JSON.stringify(page.nextCursor)}}`));
    return Buffer.concat(parts);
  }
}
