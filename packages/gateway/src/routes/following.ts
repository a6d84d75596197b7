import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CRS_NAMES, Latitude, Longitude, StringEnum, Ticket, TicketEvent, TicketStatus } from '@civicloop/model';
import { PEOPLE, type Services } from '../core/services.js';
import { Following } from '../tickets/following.js';
import { idempotencyScope } from '../core/idempotency.js';
import { redactEvent, redactFor } from '../tickets/visibility.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { errorResponses, security, TicketParams } from './shared-schemas.js';

const NearbyReport = Type.Object({
  id: Type.String(),
  number: Type.String(),
  status: TicketStatus,
  category: Type.String(),
  description: Type.String({ description: 'its first 140 characters' }),
  distanceMeters: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ format: 'date-time' }),
  mine: Type.Boolean({ description: 'the asker reported or follows it already' }),
});

/** "Is it one of these?" before a report is sent, and following a report instead of filing it again. */
export const followingRoutes: FastifyPluginAsyncTypebox<{ services: Services; ticketService: TicketService }> = async (app, { services, ticketService }) => {
  const following = new Following(services, ticketService);

  app.get(
    '/v1/tickets/nearby',
    {
      config: { access: { kind: 'roles', roles: PEOPLE } },
      schema: {
        tags: ['tickets'],
        summary: 'Open reports of a category near a point, nearest first: what a resident may follow instead of reporting again',
        description:
          'Within DUPLICATE_RADIUS_METERS, reported within DUPLICATE_WINDOW_HOURS, not closed. Residents see only reports the ' +
          'tenant publishes (policy.publicReads and a public category) and their own; staff see all. No reporter, no photos.',
        security,
        querystring: Type.Object(
          {
            category: Type.String({ minLength: 1, maxLength: 64 }),
            lat: Latitude(),
            lon: Longitude(),
            crs: Type.Optional(StringEnum(CRS_NAMES, { description: "the point's coordinate system; the tenant's default when absent" })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 5 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(NearbyReport) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await following.nearby(request.principal, request.query) }),
  );

  app.post(
    '/v1/tickets/:id/follow',
    {
      config: { access: { kind: 'roles', roles: ['citizen'] } },
      schema: {
        tags: ['tickets'],
        summary: 'Follow a report instead of filing it again: it shows among your reports and you are told how it ends',
        description:
          'For residents, on a report they can see (their own, or one the tenant publishes) that is not closed. Following twice changes nothing (event null).',
        security,
        params: TicketParams,
        body: Type.Optional(
          Type.Object(
            { note: Type.Optional(Type.String({ maxLength: 500, description: 'the resident\'s word on it ("still there, worse today"), kept on the event' })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ ticket: Ticket, event: Type.Union([TicketEvent, Type.Null()]) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const idem = idempotencyScope(principal, request.headers['idempotency-key'], `follow:${request.params.id}`, request.body ?? {});
      const outcome = await following.follow(principal, request.params.id, request.body?.note, idem);
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return {
        ticket: redactFor(principal, outcome.ticket, services.mediaUrls, services.now()),
        event: outcome.event && redactEvent(principal, outcome.event),
      };
    },
  );
};
