import { Type } from '@sinclair/typebox';
import { ErrorResponse, Ticket, TicketEvent } from '@civicloop/model';

/** The error statuses every authenticated route can answer with, for the OpenAPI document. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  415: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};

export const TicketParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Send the same key when retrying; the first result is returned and nothing is done twice' })),
});

export const CommandResult = Type.Object({
  ticket: Ticket,
  event: Type.Union([TicketEvent, Type.Null()], {
    description:
      'null only when a repeated Idempotency-Key finds the command done but its first answer lost ' +
      '(the gateway stopped in between); a repeated key otherwise gets the first answer again',
  }),
});

export const security: { [scheme: string]: string[] }[] = [{ bearer: [] }, { publishableKey: [] }];
