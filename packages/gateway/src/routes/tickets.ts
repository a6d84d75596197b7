import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CreateTicketInput, LikelyDuplicate, ListTicketsQuery, Ticket, TicketHistory, TicketPage } from '@civicloop/model';
import { PEOPLE, PEOPLE_AND_PARTNERS, STAFF, type Services } from '../core/services.js';
import { nativeIdempotencyScope } from '../http/idempotent-replay.js';
import { TicketPageWriter } from '../http/ticket-page-json.js';
import { storedTicketAnswer } from '../http/stored-answer-json.js';
import { listTickets } from '../tickets/list-tickets.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { redactFor, showEvent } from '../tickets/visibility.js';
import { CrsQuery } from './crs-output.js';
import { ticketIn } from '../geometry/crs-output.js';
import { IdempotencyHeaders, TicketParams, errorResponses, security } from './shared-schemas.js';

// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const ticketRoutes: FastifyPluginAsyncTypebox<{ services: Services; ticketService: TicketService }> = async (app, { services, ticketService }) => {
  const pages = new TicketPageWriter();
  app.post(
    '/v1/tickets',
    {
      config: { access: { kind: 'roles', roles: ['public', ...PEOPLE] }, idempotency: 'native' },
      schema: {
        tags: ['tickets'],
        summary: 'Report a problem (create a ticket in state reported)',
        security,
        querystring: CrsQuery,
        headers: IdempotencyHeaders,
        body: CreateTicketInput,
        response: { 200: Ticket, 201: Ticket, ...errorResponses },
      },
    },
    async (request, reply) => {
      const idem = nativeIdempotencyScope(request, 'create');
      const outcome = await ticketService.create(request.principal, request.body, idem);
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      // ?crs: the new ticket as the reporter's map draws it, as reads give it (then serialised, not sent as stored).
      const shown = ticketIn(redactFor(request.principal, outcome.ticket, services.mediaUrls, services.now()), request.query.crs);
      const stored = storedTicketAnswer(outcome, shown);
      // Returned rather than sent (as in routes/commands.ts): an async handler that returns
      // `reply` makes its promise adopt it as a thenable, which waits on the response's end.
      reply.code(201);
      if (stored === undefined) return shown;
      // Already JSON: fastify sends a string of a JSON type as it is (the cast is to the schema's type).
      reply.type('application/json; charset=utf-8');
      return stored as unknown as Ticket;
    },
  );

  app.get(
    '/v1/tickets',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['tickets'],
        summary: 'List tickets, newest first, with filters and cursor pagination',
        security,
        querystring: ListTicketsQuery,
        response: { 200: TicketPage, ...errorResponses },
      },
    },
    async (request, reply) => {
      const now = services.now();
      const page = await listTickets(services.tickets, request.principal, request.query, now);
      const shown = page.items.map((t) => ticketIn(redactFor(request.principal, t, services.mediaUrls, now), request.query.crs));
      // Written as the schema's serialiser writes it, reusing each cached ticket's written form (http/ticket-page-json.ts).
      const json = pages.page(page, shown);
      // Already JSON: fastify sends a Buffer as it is, without its serialiser (the cast is to the schema's type).
      reply.type('application/json; charset=utf-8');
      return json as unknown as TicketPage;
    },
  );

  app.get(
    '/v1/tickets/:id',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['tickets'],
        summary: 'Get a ticket (its location in WGS-84, or in ?crs)',
        security,
        params: TicketParams,
        querystring: CrsQuery,
        response: { 200: Ticket, ...errorResponses },
      },
    },
    async (request) =>
      ticketIn(
        redactFor(request.principal, await ticketService.get(request.principal, request.params.id), services.mediaUrls, services.now()),
        request.query.crs,
      ),
  );

  app.get(
    '/v1/tickets/by-number/:number',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['tickets'],
        summary: 'Find a ticket by its human-readable number (for phone callbacks)',
        security,
        params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 40 }) }),
        querystring: CrsQuery,
        response: { 200: Ticket, ...errorResponses },
      },
    },
    async (request) =>
      ticketIn(
        redactFor(request.principal, await ticketService.byNumber(request.principal, request.params.number), services.mediaUrls, services.now()),
        request.query.crs,
      ),
  );

  app.get(
    '/v1/tickets/:id/history',
    {
      config: { access: { kind: 'roles', roles: PEOPLE_AND_PARTNERS } },
      schema: {
        tags: ['tickets'],
        summary: 'Every event of a ticket, oldest first, with actor and time',
        security,
        params: TicketParams,
        response: { 200: TicketHistory, ...errorResponses },
      },
    },
    async (request) => ({
      items: (await ticketService.history(request.principal, request.params.id)).map((e) =>
        showEvent(request.principal, e, services.mediaUrls, services.now()),
      ),
    }),
  );

  app.get(
    '/v1/tickets/:id/likely-duplicates',
    {
      config: { access: { kind: 'roles', roles: STAFF } },
      schema: {
        tags: ['tickets'],
        summary: 'Open tickets of the same category nearby and recent (DUPLICATE_RADIUS_METERS, DUPLICATE_WINDOW_HOURS): candidates to merge this one into',
        security,
        params: TicketParams,
        response: { 200: Type.Object({ items: Type.Array(LikelyDuplicate) }), ...errorResponses },
      },
    },
    async (request) => {
      const ticket = await ticketService.get(request.principal, request.params.id);
      return { items: await ticketService.likelyDuplicates(request.principal.tenantId, ticket) };
    },
  );
};
