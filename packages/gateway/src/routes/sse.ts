import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';

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

function write(raw: ServerResponse, chunk: string): Promise<void> {
  if (raw.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.once('drain', done);
    raw.once('close', done);
  });
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
 * Serves a Redis stream as server-sent events: a blocking XREAD loop on a connection of its
 * own, keep-alive comments while idle, back-pressure from the socket, and an end when the
 * client leaves or the gateway closes.
 */
export async function serveRedisStream(request: FastifyRequest, reply: FastifyReply, services: Services, streams: EventStreams, options: RedisStreamOptions): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  const reader = services.redis.duplicate();
  let cursor = options.cursor;
  let open = true;
  let untrack: () => void = () => undefined;
  const stop = () => {
    if (!open) return;
    open = false;
    untrack();
    reader.disconnect();
    raw.end();
  };
  untrack = streams.track(stop);
  raw.on('close', stop);
  try {
    await write(raw, 'retry: 2000\n\n');
    if (options.preface) await write(raw, options.preface);
    while (open) {
      const batch: [string, [string, string[]][]][] | null = await reader.xread('COUNT', 500, 'BLOCK', services.config.sseHeartbeatMs, 'STREAMS', options.key, cursor);
      if (!open) break;
      if (!batch) {
        await write(raw, ': keep-alive\n\n');
        continue;
      }
      for (const [id, fields] of batch[0]![1]) {
        cursor = id;
        const frame = options.frame(id, fields);
        if (frame) await write(raw, frame);
      }
    }
  } catch (error) {
    if (open) request.log.warn({ err: error }, 'event stream ended by an error');
  } finally {
    stop();
  }
}
