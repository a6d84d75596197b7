import { expect } from 'vitest';
import { SseParser } from '@civicloop/sdk';

/** A ticket event as a stream listener heard it. */
export interface HeardEvent {
  /** Its position in the stream (the SSE id). */
  id: string;
  ticketId: string;
  type: string;
  /** Who acted, as this listener was shown it. */
  actor: string;
}

/**
 * A raw SSE reader of GET /v1/events over fetch: collects the `ticket` events (and the name of
 * every message) until closed. `done` settles once the stream has ended, and fails if it was not
 * an event stream.
 */
export function listenToEvents(baseUrl: string, credential: { auth?: string; key?: string; lastEventId?: string }) {
  const controller = new AbortController();
  const received: HeardEvent[] = [];
  const messages: string[] = [];
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (credential.auth) headers.authorization = `Bearer ${credential.auth}`;
  if (credential.key) headers['x-civicloop-key'] = credential.key;
  if (credential.lastEventId) headers['last-event-id'] = credential.lastEventId;
  const ready = fetch(`${baseUrl}/v1/events`, { headers, signal: controller.signal });
  const done = (async () => {
    const response = await ready;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const parser = new SseParser();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          messages.push(message.event);
          if (message.event !== 'ticket') continue;
          const { event } = JSON.parse(message.data) as { event: { ticketId: string; type: string; actor: { sub: string } } };
          received.push({ id: message.id!, ticketId: event.ticketId, type: event.type, actor: event.actor.sub });
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return { received, messages, ready, close: () => controller.abort(), done };
}
