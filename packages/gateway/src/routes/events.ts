import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, type Principal } from '@civicloop/model';
import { PEOPLE, type Services } from '../services.js';
import { streamEntryToEvent } from '../store/ticket-store.js';
import { errorResponses, security } from './shared-schemas.js';

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const major = BigInt(am!) - BigInt(bm!);
  if (major !== 0n) return major > 0n ? 1 : -1;
  const minor = BigInt(as) - BigInt(bs);
  return minor === 0n ? 0 : minor > 0n ? 1 : -1;
}

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

/**
 * GET /v1/events: the tenant's ticket events as server-sent events. Each event's id is its
 * position in the tenant's Redis stream, so a client reconnecting with Last-Event-ID continues
 * exactly after the last event it saw, wherever the gateway that serves it runs.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<{ services: Services; streams: EventStreams }> = async (app, { services, streams }) => {
  app.get(
    '/v1/events',
    {
      config: { access: { kind: 'roles', roles: PEOPLE } },
      schema: {
        tags: ['realtime'],
        summary: 'Server-sent events of the tenant\'s ticket events (citizens: their own tickets), resumable with Last-Event-ID',
        security,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 45 })) }),
        querystring: Type.Object({
          lastEventId: Type.Optional(Type.String({ maxLength: 45, description: 'same as the Last-Event-ID header, for clients that cannot set headers' })),
        }),
        response: {
          200: { description: 'text/event-stream: `event: ticket` frames whose data is a StreamEvent; `event: reset` when events after Last-Event-ID were trimmed', type: 'string' },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal: Principal = request.principal;
      const key = services.tickets.keys(principal.tenantId).events;
      const resumeFrom = request.headers['last-event-id'] ?? request.query.lastEventId;
      if (resumeFrom !== undefined && !STREAM_ID.test(resumeFrom)) {
        throw new CivicLoopError('CL_ERR_VALIDATION', 'Last-Event-ID must be an event id this stream sent (digits-digits).');
      }
      let cursor: string;
      let trimmed = false;
      if (resumeFrom === undefined) {
        const latest = await services.redis.xrevrange(key, '+', '-', 'COUNT', 1);
        cursor = latest[0]?.[0] ?? '0-0';
      } else {
        cursor = resumeFrom;
        trimmed = await eventsTrimmedAfter(services, key, cursor);
      }

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
        if (trimmed) await write(raw, `event: reset\ndata: ${JSON.stringify({ reason: 'trimmed', message: 'Events after your Last-Event-ID were trimmed; reload the tickets you show.' })}\n\n`);
        while (open) {
          const batch: [string, [string, string[]][]][] | null = await reader.xread('COUNT', 500, 'BLOCK', services.config.sseHeartbeatMs, 'STREAMS', key, cursor);
          if (!open) break;
          if (!batch) {
            await write(raw, ': keep-alive\n\n');
            continue;
          }
          for (const [id, fields] of batch[0]![1]) {
            cursor = id;
            const decoded = streamEntryToEvent(id, fields);
            if (!decoded) continue;
            if (principal.role === 'citizen' && !decoded.parties.includes(principal.sub)) continue;
            await write(raw, `id: ${id}\nevent: ticket\ndata: ${JSON.stringify(decoded.event)}\n\n`);
          }
        }
      } catch (error) {
        if (open) request.log.warn({ err: error }, 'event stream ended by an error');
      } finally {
        stop();
      }
    },
  );
};

async function eventsTrimmedAfter(services: Services, key: string, lastSeen: string): Promise<boolean> {
  try {
    const info = (await services.redis.call('XINFO', 'STREAM', key)) as unknown[];
    for (let i = 0; i < info.length; i += 2) {
      if (info[i] === 'max-deleted-entry-id') return compareIds(String(info[i + 1]), lastSeen) > 0;
    }
  } catch (error) {
    // No stream yet: nothing was ever trimmed.
    if (String(error).includes('no such key')) return false;
    throw error;
  }
  return false;
}
