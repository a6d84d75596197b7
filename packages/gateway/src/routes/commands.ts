import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import { COMMAND_BODIES, COMMAND_NAMES, type CommandName } from '@civicloop/model';
import { PEOPLE, type Services } from '../core/services.js';
import { nativeIdempotencyScope } from '../http/idempotent-replay.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { redactFor, showEvent } from '../tickets/visibility.js';
import { storedCommandAnswer } from '../http/stored-answer-json.js';
import { CommandResult, IdempotencyHeaders, TicketParams, errorResponses, security } from './shared-schemas.js';
import { CrsQuery } from './crs-output.js';
import { ticketIn } from '../geometry/crs-output.js';

const SUMMARIES: Record<CommandName, string> = {
  dispatch: 'Dispatch a reported ticket to a unit (and optionally a worker); sets SLA deadlines',
  reassign: 'Move a ticket in progress to another unit or worker',
  return: "Return a dispatched ticket that is not the unit's responsibility, with a reason",
  accept: 'The assigned worker accepts the job',
  arrive: 'The worker is on site',
  resolve: 'The worker reports the fix, with at least one after-photo',
  verify: 'A supervisor checks the fix: pass closes the ticket, fail sends it back for rework',
  rework: 'The worker starts the rework a failed verification asked for',
  reject: 'Reject a report (invalid, not our responsibility, void)',
  merge: 'Close a report as a duplicate of another; its reporter follows the original',
  cancel: 'The reporter withdraws a report before it is dispatched',
  reopen: 'Reopen a closed ticket and dispatch it again',
  feedback: 'The reporter rates the outcome 1-5 (a low rating may reopen, per tenant rule)',
  request_extension: 'The assigned worker (or a dispatcher) asks for more time to resolve, with a reason',
  review_extension: 'A dispatcher or supervisor approves (the resolve deadline moves) or refuses a pending extension',
  urge:
    '催办: the reporter or a follower (or a dispatcher taking a hotline chase) presses an overdue ' +
    'report; at most once in 12 hours; the unit and the assigned worker are told on the event stream',
};

/** One route per command, all through the same state machine and atomic commit. */
export const commandRoutes: FastifyPluginAsyncTypebox<{ services: Services; ticketService: TicketService }> = async (app, { services, ticketService }) => {
  for (const name of COMMAND_NAMES) {
    app.post(
      `/v1/tickets/:id/${name}`,
      {
        config: { access: { kind: 'roles', roles: PEOPLE }, idempotency: 'native' },
        schema: {
          tags: ['commands'],
          summary: SUMMARIES[name],
          operationId: `ticket_${name}`,
          security,
          params: TicketParams,
          querystring: CrsQuery,
          headers: IdempotencyHeaders,
          body: COMMAND_BODIES[name],
          response: { 200: CommandResult, ...errorResponses },
        },
      },
      async (request, reply) => {
        const idem = nativeIdempotencyScope(request, `${name}:${request.params.id}`);
        const outcome = await ticketService.run(request.principal, request.params.id, name, request.body as never, idem);
        if (outcome.replayed) reply.header('idempotent-replayed', 'true');
        const now = services.now();
        // ?crs: the ticket as the caller's map draws it, as its reads give it (then serialised, not sent as stored).
        const ticket = ticketIn(redactFor(request.principal, outcome.ticket, services.mediaUrls, now), request.query.crs);
        const event = outcome.event && showEvent(request.principal, outcome.event, services.mediaUrls, now);
        const stored = storedCommandAnswer(outcome, ticket, event);
        if (stored === undefined) return { ticket, event };
        // Already JSON: fastify sends a string of a JSON type as it is (the cast is to the schema's type).
        // Returned rather than sent: an async handler that returns `reply` makes the promise adopt
        // it as a thenable, and fastify then waits on the response's end for nothing.
        reply.type('application/json; charset=utf-8');
        return stored as unknown as Static<typeof CommandResult>;
      },
    );
  }
};
