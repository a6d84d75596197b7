import type { CrsName, DeviceAlert, StreamEvent } from '@civicloop/model';
import { webRuntime } from './runtime.js';
import { AuthenticationError, CivicLoopApiError, NotFoundError, PermissionDeniedError, errorFromResponse } from './errors.js';
import { SseParser } from './sse.js';
import type { Transport } from './transport.js';

export interface StreamOptions {
  /** The SSE route, e.g. /v1/events or /v1/fleet/events?throttleMs=2000. */
  path: string;
  /** The SSE event name(s) to yield (others are ignored). */
  event: string | readonly string[];
  /** Turns a frame's event name and data into what is yielded; by default its data. */
  map?: (event: string, data: unknown) => unknown;
}

/** What /v1/events carries: ticket events, and device alerts for staff. */
export type RealtimeMessage = { kind: 'ticket'; event: StreamEvent } | { kind: 'device'; streamId: string; alert: DeviceAlert };

export interface SubscribeOptions {
  /** Resume after this event (its streamId); without it the stream starts with new events. */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Called when the gateway says events after lastEventId were trimmed: reload what you show. */
  onReset?: () => void;
  /** Called after each reconnect, with the id it resumed from. */
  onReconnect?: (lastEventId: string | undefined) => void;
  /** Called each time the stream is open (live): first connection and every reconnection. */
  onOpen?: () => void;
  /** Called each time the stream drops or a connection attempt fails, before it retries. */
  onDisconnect?: (error: unknown) => void;
}

/** subscribe's and subscribeAll's options: also the system to give points in. */
export interface EventSubscribeOptions extends SubscribeOptions {
  /** A report's place and an alert's lat and lon in this system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu); wgs84 when absent. */
  crs?: CrsName;
}

const eventsPath = (options: EventSubscribeOptions) => (options.crs ? `/v1/events?crs=${encodeURIComponent(options.crs)}` : '/v1/events');

/** A live subscription: iterate it with `for await`; `lastEventId` is where a resume would continue. */
export interface Subscription<T = StreamEvent> extends AsyncIterable<T> {
  readonly lastEventId: string | undefined;
  close(): void;
}

const FATAL = [AuthenticationError, PermissionDeniedError, NotFoundError];

/**
 * Reads GET /v1/events with fetch (EventSource cannot send an Authorization header), and
 * reconnects on any drop with Last-Event-ID, so the consumer sees every event once, in order.
 */
export function subscribe(transport: Transport, options: EventSubscribeOptions = {}): Subscription {
  return subscribeTo<StreamEvent>(transport, { path: eventsPath(options), event: 'ticket' }, options);
}

/** Ticket events and device alerts on one resumable stream (GET /v1/events). */
export function subscribeAll(transport: Transport, options: EventSubscribeOptions = {}): Subscription<RealtimeMessage> {
  return subscribeTo<RealtimeMessage>(
    transport,
    {
      path: eventsPath(options),
      event: ['ticket', 'device'],
      map: (event, data) =>
        event === 'ticket' ? { kind: 'ticket', event: data as StreamEvent } : { kind: 'device', ...(data as { streamId: string; alert: DeviceAlert }) },
    },
    options,
  );
}

/** Any of the gateway's SSE routes, with the same reconnect-and-resume behaviour. */
export function subscribeTo<T>(transport: Transport, stream: StreamOptions, options: SubscribeOptions = {}): Subscription<T> {
  const runtime = transport.options.runtime ?? webRuntime;
  const controller = runtime.abortController();
  options.signal?.addEventListener('abort', () => controller.abort(options.signal!.reason), { once: true });
  let lastEventId = options.lastEventId;
  let serverRetryMs: number | undefined;

  async function* run(): AsyncGenerator<T> {
    let attempt = 0;
    let first = true;
    while (!controller.signal.aborted) {
      if (!first) options.onReconnect?.(lastEventId);
      first = false;
      try {
        const headers = await transport.headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) });
        const response = await (transport.options.fetch ?? globalThis.fetch)(transport.options.baseUrl + stream.path, {
          headers,
          signal: controller.signal as AbortSignal,
        });
        if (!response.ok || !response.body) {
          const text = await response.text().catch(() => '');
          let body: { error?: never } | undefined;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          throw errorFromResponse(response.status, body?.error, response.headers.get('x-request-id') ?? undefined);
        }
        attempt = 0;
        options.onOpen?.();
        const parser = new SseParser();
        const decode = runtime.utf8Decoder();
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(decode(value))) {
            if (message.retry !== undefined) serverRetryMs = message.retry;
            // Every id moves the resume point, the one the gateway sends first included: a
            // stream that drops before its first event resumes from where it began.
            if (message.id !== undefined) lastEventId = message.id;
            if (message.event === 'reset') options.onReset?.();
            if (typeof stream.event === 'string' ? message.event !== stream.event : !stream.event.includes(message.event)) continue;
            const data: unknown = JSON.parse(message.data);
            yield (stream.map ? stream.map(message.event, data) : data) as T;
          }
        }
        if (!controller.signal.aborted) options.onDisconnect?.(new Error('the event stream ended'));
      } catch (error) {
        if (controller.signal.aborted) return;
        options.onDisconnect?.(error);
        if (FATAL.some((kind) => error instanceof kind)) throw error;
        if (error instanceof CivicLoopApiError && !error.retryable && error.status < 500 && error.status !== 0) throw error;
      }
      if (controller.signal.aborted) return;
      const wait = serverRetryMs !== undefined && attempt === 0 ? serverRetryMs : transport.delay(attempt);
      attempt++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        controller.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }

  const iterator = run();
  return {
    get lastEventId() {
      return lastEventId;
    },
    close: () => controller.abort(),
    [Symbol.asyncIterator]: () => iterator,
  };
}
