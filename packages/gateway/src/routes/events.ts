import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, isStaff, type Principal } from '@civicloop/model';
import { redactEvent } from '../tickets/visibility.js';
import { PEOPLE_AND_PARTNERS, type Services } from '../core/services.js';
import { streamEntryToAlert, streamEntryToEvent } from '../store/ticket-store.js';
import { errorResponses, security } from './shared-schemas.js';
import { CrsQuery } from './crs-output.js';
import { alertIn, eventIn } from '../geometry/crs-output.js';
import { EventStreams, serveRedisStream } from './sse.js';
import { latestStreamId, trimmedAfter, type StreamHub } from '../redis/stream-hub.js';

export { EventStreams };

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/**
 * GET /v1/events: the tenant's ticket events as server-sent events. Each event's id is its
 * position in the tenant's Redis stream, so a client reconnecting with Last-Event-ID continues
 * exactly after the last event it saw, wherever the gateway that serves it runs.
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const eventRoutes: FastifyPluginAsyncTypebox<{ services: Services; streams: EventStreams; hub: StreamHub }> = async (
  app,
  { services, streams, hub },
) => {
  // Read this before reading what you show, then subscribe from it: nothing that changes in
  // between is missed (a list then a watch from its position, as Kubernetes clients do).
  app.get(
    '/v1/events/position',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['realtime'],
        summary: "Where the tenant's event stream is now: subscribe to /v1/events with this Last-Event-ID to receive every event after this moment",
        security,
        response: {
          200: Type.Object({ lastEventId: Type.String({ description: 'the id of the newest event so far (0-0 when there is none)' }) }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ lastEventId: await latestStreamId(services.redis, services.tickets.keys(request.principal.tenantId).events) }),
  );

  app.get(
    '/v1/events',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['realtime'],
        summary: "Server-sent events of the tenant's ticket events (citizens: their own tickets) and device alerts (staff), resumable with Last-Event-ID",
        security,
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 45 })) }),
        querystring: Type.Object({
          lastEventId: Type.Optional(Type.String({ maxLength: 45, description: 'same as the Last-Event-ID header, for clients that cannot set headers' })),
          ...CrsQuery.properties,
        }),
        produces: ['text/event-stream'],
        response: {
          200: {
            description:
              'text/event-stream: `event: ticket` frames whose data is a StreamEvent; `event: device` frames ({ streamId, alert: DeviceAlert ' +
              '}: SOS, fall, low battery, vehicle alarms; staff only); `event: reset` when events after Last-Event-ID were trimmed. ' +
              'With ?crs, the place of a report (data.location, with crs beside lat and lon) and the lat and lon of an alert are in that system',
            type: 'string',
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal: Principal = request.principal;
      const { crs } = request.query;
      const key = services.tickets.keys(principal.tenantId).events;
      const resumeFrom = request.headers['last-event-id'] ?? request.query.lastEventId;
      if (resumeFrom !== undefined && !STREAM_ID.test(resumeFrom)) {
        throw new CivicLoopError('CL_ERR_VALIDATION', 'Last-Event-ID must be an event id this stream sent (digits-digits).');
      }
      let cursor: string;
      let trimmed = false;
      if (resumeFrom === undefined) {
        cursor = await latestStreamId(services.redis, key);
      } else {
        cursor = resumeFrom;
        trimmed = await trimmedAfter(services.redis, key, cursor);
      }

      await serveRedisStream(request, reply, services, streams, hub, {
        key,
        cursor,
        ...(trimmed
          ? {
              preface:
                `event: reset\ndata: ` +
                `${JSON.stringify({ reason: 'trimmed', message: 'Events after your Last-Event-ID were trimmed; reload the tickets you show.' })}\n\n`,
            }
          : {}),
        frame: (id, fields) => {
          // Device alerts (SOS, fall, low battery, vehicle alarms) are for staff, not residents.
          const alert = streamEntryToAlert(fields);
          if (alert)
            return isStaff(principal.role) ? `id: ${id}\nevent: device\ndata: ${JSON.stringify({ streamId: id, alert: alertIn(alert, crs) })}\n\n` : undefined;
          const decoded = streamEntryToEvent(id, fields);
          if (!decoded) return undefined;
          // Residents hear of their own tickets, a partner's server of its residents' (its subject is among the parties).
          if (!isStaff(principal.role) && !decoded.parties.includes(principal.sub)) return undefined;
          const event = { ...decoded.event, event: eventIn(redactEvent(principal, decoded.event.event), crs) };
          return `id: ${id}\nevent: ticket\ndata: ${JSON.stringify(event)}\n\n`;
        },
      });
    },
  );
};
