import { AuthenticationError, ConnectionError, TimeoutError, type CivicLoop, type Ticket } from '@civicloop/sdk';
import type { QueuedReport } from './outbox.js';

/** A refusal whose message is written for the resident (shown as it is, not as "something went wrong"). */
export class ReportRefused extends Error {
  override readonly name = 'ReportRefused';
}

/** The failures worth queueing for later: the request may not have reached the gateway. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof ConnectionError || error instanceof TimeoutError || (error instanceof TypeError && /fetch|network/i.test(error.message));
}

/** The resident is not (or no longer) signed in: their token cannot be had or was refused. */
export function isSignedOut(error: unknown): boolean {
  return error instanceof AuthenticationError;
}

/**
 * Uploads the photos, then creates the ticket with the report's own idempotency key, through a
 * client that acts as exactly one resident. Sent again after a failure, the photos land on the
 * same content-addressed names and the key returns the ticket the first attempt made.
 */
export async function sendReport(client: CivicLoop, item: QueuedReport, onUpload?: (uploaded: number, total: number) => void): Promise<Ticket> {
  const photos = [];
  onUpload?.(0, item.photos.length);
  for (const [index, blob] of item.photos.entries()) {
    const uploaded = await client.media.upload(blob, `photo-${index + 1}.jpg`);
    photos.push({ ref: uploaded.ref });
    onUpload?.(index + 1, item.photos.length);
  }
  return client.tickets.create({ ...item.input, ...(photos.length ? { photos } : {}) }, { idempotencyKey: item.key });
}
