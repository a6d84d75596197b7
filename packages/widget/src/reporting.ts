import { ConnectionError, TimeoutError, type Ticket } from '@civicloop/sdk';
import type { QueuedReport } from './outbox.js';
import type { Session } from './session.js';

/** The failures worth queueing for later: the request may not have reached the gateway. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof ConnectionError || error instanceof TimeoutError || (error instanceof TypeError && /fetch|network/i.test(error.message));
}

/**
 * Uploads the photos, then creates the ticket with the report's own idempotency key. Sent again
 * after a failure, the photos land on the same content-addressed names and the key returns the
 * ticket the first attempt made.
 */
export async function sendReport(session: Session, item: QueuedReport): Promise<Ticket> {
  const photos = [];
  for (const [index, blob] of item.photos.entries()) {
    const uploaded = await session.resident.media.upload(blob, `photo-${index + 1}.jpg`);
    photos.push({ ref: uploaded.ref });
  }
  return session.resident.tickets.create({ ...item.input, ...(photos.length ? { photos } : {}) }, { idempotencyKey: item.key });
}
