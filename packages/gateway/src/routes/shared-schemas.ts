import { Type } from '@sinclair/typebox';
import { ERROR_CODES, StringEnum, Ticket, TicketEvent } from '@civicloop/model';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: StringEnum(ERROR_CODES),
      message: Type.String(),
      status: Type.Integer(),
      retryable: Type.Boolean(),
      details: Type.Optional(Type.Unknown()),
      requestId: Type.Optional(Type.String()),
    }),
  },
  { description: 'Every error: a stable CL_ERR_* code and a message saying what to change' },
);

/** The error statuses every authenticated route can answer with, for the OpenAPI document. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  422: ErrorResponse,
  503: ErrorResponse,
};

export const TicketParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Send the same key when retrying; the first result is returned and nothing is done twice' }),
  ),
});

export const CommandResult = Type.Object({
  ticket: Ticket,
  event: Type.Union([TicketEvent, Type.Null()], { description: 'null when this answers a replayed Idempotency-Key' }),
});

export const security: { [scheme: string]: string[] }[] = [{ bearer: [] }, { publishableKey: [] }];
