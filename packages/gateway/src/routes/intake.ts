import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HotlineImportResult, HotlineRecord } from '@civicloop/model';
import { MANAGERS_AND_SERVERS, type Services } from '../core/services.js';
import { acceptTextBodies } from '../http/text-body.js';
import { exactCheck } from '../http/validation.js';
import { importHotline, MAX_ROWS, rowsFromCsv } from '../tickets/hotline-intake.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { errorResponses, security } from './shared-schemas.js';

/** Intake from other channels: batches of hotline cases, as JSON or CSV. */
export const intakeRoutes: FastifyPluginAsyncTypebox<{ services: Services; ticketService: TicketService }> = async (app, { services, ticketService }) => {
  acceptTextBodies(app, 'text/csv', services.config.bodyLimitBytes);
  // Each row checked as a body is (formats included), one by one: a bad row does not refuse the batch.
  const checkRow = exactCheck(HotlineRecord);

  app.post(
    '/v1/intake/hotline',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags: ['intake'],
        summary:
          `Import 12345 / 12319 hotline cases (JSON {records} or text/csv, at most ${MAX_ROWS}); good ` +
          `rows become tickets, repeated case numbers are skipped, bad rows are reported one by one`,
        security,
        // Rows are checked one by one (HotlineRecord), so that one bad row does not refuse the batch.
        body: Type.Union([
          Type.Object({ records: Type.Array(Type.Unknown(), { maxItems: MAX_ROWS }) }, { additionalProperties: false }),
          Type.String({ description: 'text/csv with a header row, in UTF-8 or the charset its Content-Type names (gb18030 for Excel in Chinese)' }),
        ]),
        response: { 200: HotlineImportResult, ...errorResponses },
      },
    },
    async (request) => {
      const rows = typeof request.body === 'string' ? rowsFromCsv(request.body) : request.body.records;
      return importHotline(ticketService, request.principal, rows, checkRow);
    },
  );
  // For the OpenAPI document: the shape each row must have.
  app.addSchema({ ...HotlineRecord, $id: 'HotlineRecord' });
};
