import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../core/services.js';
import type { StreamHub } from '../redis/stream-hub.js';

/** Open SSE responses, so that shutdown can end them instead of waiting on them forever. */
export class EventStreams {
  private readonly open = new Set<() => void>();

  track(close: () => void): () => void {
    this.open.add(close);
    return () => {
      this.open.delete(close);
    };
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const close of [...this.open]) close();
  }
}

export interface RedisStreamOptions {
  key: string;
  /** Serve entries after this stream id. */
  cursor: string;
  /** Written once, before the first entry (e.g. a reset notice). */
  preface?: string;
  /** The SSE frame for an entry, or undefined to skip it. */
  frame: (id: string, fields: string[]) => string | undefined;
}

/**
 * Serves a Redis stream as server-sent events through the shared StreamHub reader: keep-alive
 * comments while idle, frames in order, and an end when the client leaves or the gateway closes.
 * A client that cannot keep up (its socket buffer grows past a limit) is disconnected; it
 * resumes with Last-Event-ID and misses nothing.
 */
export async function serveRedisStream(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  streams: EventStreams,
  hub: StreamHub,
  options: RedisStreamOptions,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  // Headers set before the hijack (CORS for an allowed origin) would otherwise be lost.
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) raw.setHeader(name, value);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  let open = true;
  let untrack: () => void = () => undefined;
  let unsubscribe: () => void = () => undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const stop = () => {
    if (!open) return;
    open = false;
    untrack();
    unsubscribe();
    clearInterval(heartbeat);
    raw.end();
  };
  untrack = streams.track(stop);
  raw.on('close', stop);
  const send = (chunk: string) => {
    if (!open) return;
    raw.write(chunk);
    if (raw.writableLength > 4 * 1024 * 1024) stop();
  };
  // The first frame names where this stream begins: a client whose connection drops before the
  // first event resumes from here (Last-Event-ID) and misses nothing.
  send(`id: ${options.cursor}\nretry: 2000\n\n`);
  if (options.preface) send(options.preface);
  heartbeat = setInterval(() => send(': keep-alive\n\n'), services.config.sseHeartbeatMs);
  try {
    const cancel = await hub.subscribe(options.key, options.cursor, (entries) => {
      for (const [id, fields] of entries) {
        const frame = options.frame(id, fields);
        if (frame) send(frame);
      }
    });
    if (open) unsubscribe = cancel;
    else cancel();
  } catch (error) {
    request.log.warn({ err: error }, 'event stream ended by an error');
    stop();
  }
}
