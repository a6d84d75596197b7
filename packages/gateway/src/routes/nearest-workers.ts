import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, Ticket, TicketEvent, categoryOf, type Principal, type Ticket as TicketShape } from '@civicloop/model';
import { MANAGERS_AND_SERVERS, type Services } from '../core/services.js';
import { findNearestWorkers, type NearestQuery } from '../store/nearest-worker.js';
import { idempotencyScope } from '../core/idempotency.js';
import { redactFor } from '../tickets/visibility.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { errorResponses, security, TicketParams } from './shared-schemas.js';
import { CrsQuery } from './crs-output.js';
import { ticketIn } from '../geometry/crs-output.js';

const RadiusMeters = Type.Integer({ minimum: 10, maximum: 100000, description: 'search radius; DISPATCH_RADIUS_METERS when absent' });
const Suggestion = Type.Object({
  staffId: Type.String(),
  name: Type.Union([Type.String(), Type.Null()], { description: 'from the staff directory; null when the wearer has no staff record' }),
  unitId: Type.Union([Type.String(), Type.Null()], {
    description: "the badge's unit, else the staff record's; null: neither has one, so the worker cannot be dispatched to",
  }),
  deviceId: Type.String(),
  distanceMeters: Type.Integer({ minimum: 0, description: "from the ticket's location to the badge's last position" }),
});

/**
 * Nearest-worker dispatch: the checked-in badge wearers nearest a ticket whose skills match its
 * category, as suggestions for a dispatcher or as a one-step dispatch to the nearest of them.
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const nearestWorkerRoutes: FastifyPluginAsyncTypebox<{ services: Services; ticketService: TicketService }> = async (
  app,
  { services, ticketService },
) => {
  const { redis } = services;
  const nearestTo = (ticket: TicketShape, radiusMeters: number | undefined): NearestQuery => ({
    lat: ticket.location.lat,
    lon: ticket.location.lon,
    radiusMeters: radiusMeters ?? services.config.dispatchRadiusMeters,
    skills: categoryOf(ticket)?.skills ?? [],
  });
  const unitOf = async (principal: Principal, staffId: string, deviceUnit: string | undefined) => {
    const staff = await services.directory.getStaff(principal.tenantId, staffId);
    return { name: staff?.name ?? null, unitId: deviceUnit ?? staff?.unitId ?? null };
  };

  app.get(
    '/v1/tickets/:id/nearest-workers',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags: ['fleet'],
        summary: "Checked-in workers nearest the ticket whose skills match its category, nearest first: a dispatcher's suggestions",
        security,
        params: TicketParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 5 })), radiusMeters: Type.Optional(RadiusMeters) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Suggestion), radiusMeters: Type.Integer(), skills: Type.Array(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      const { principal } = request;
      const ticket = await ticketService.get(principal, request.params.id);
      const query = nearestTo(ticket, request.query.radiusMeters);
      const found = await findNearestWorkers(redis, principal.tenantId, query, request.query.limit ?? 5);
      const items = await Promise.all(
        found.map(async (c) => ({
          staffId: c.staffId,
          ...(await unitOf(principal, c.staffId, c.device.unitId)),
          deviceId: c.device.id,
          distanceMeters: Math.round(c.distanceMeters),
        })),
      );
      return { items, radiusMeters: query.radiusMeters, skills: [...query.skills] };
    },
  );

  app.post(
    '/v1/tickets/:id/dispatch-nearest',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags: ['commands'],
        summary: 'Dispatch to the nearest checked-in worker whose skills match the category, within a radius; their badge receives the assignment',
        security,
        params: TicketParams,
        querystring: CrsQuery,
        body: Type.Object(
          { radiusMeters: Type.Optional(RadiusMeters), note: Type.Optional(Type.String({ maxLength: 2000 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            ticket: Ticket,
            event: Type.Union([TicketEvent, Type.Null()]),
            worker: Type.Object({ staffId: Type.String(), deviceId: Type.String(), distanceMeters: Type.Number() }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const ticket = await ticketService.get(principal, request.params.id);
      const query = nearestTo(ticket, request.body.radiusMeters);
      const [candidate] = await findNearestWorkers(redis, principal.tenantId, query, 1);
      if (!candidate) {
        throw new CivicLoopError(
          'CL_ERR_NO_WORKER_NEARBY',
          `No checked-in worker with skills [${query.skills.join(', ')}] within ${query.radiusMeters} m; widen radiusMeters or dispatch by hand.`,
        );
      }
      const { unitId } = await unitOf(principal, candidate.staffId, candidate.device.unitId);
      if (!unitId) throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Worker ${candidate.staffId} has no unit; set unitId on their badge or staff record.`);
      const idem = idempotencyScope(principal, request.headers['idempotency-key'], `dispatch-nearest:${ticket.id}`, request.body);
      const outcome = await ticketService.run(
        principal,
        ticket.id,
        'dispatch',
        { unitId, assigneeId: candidate.staffId, ...(request.body.note ? { note: request.body.note } : {}) },
        idem,
      );
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return {
        ticket: ticketIn(redactFor(principal, outcome.ticket, services.mediaUrls, services.now()), request.query.crs),
        event: outcome.event,
        worker: { staffId: candidate.staffId, deviceId: candidate.device.id, distanceMeters: Math.round(candidate.distanceMeters) },
      };
    },
  );
};
