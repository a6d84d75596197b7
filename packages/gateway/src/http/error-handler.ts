import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import { isRedisUnavailable } from '../redis/errors.js';
import type { Services } from '../core/services.js';
import { addErrorCors } from './cors.js';
import { validationIssue } from './validation.js';

/** Seconds a client is asked to wait after CL_ERR_UNAVAILABLE: a failover or restart takes a few. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

function describeValidation(error: FastifyError): CivicLoopError {
  const issues = (error.validation ?? []).map(validationIssue);
  const part = error.validationContext ?? 'body';
  const summary = issues
    .slice(0, 5)
    .map((i) => `${part}${i.path} ${i.message}`)
    .join('; ');
  return new CivicLoopError('CL_ERR_VALIDATION', `Invalid request: ${summary}.`, { part, issues });
}

/** Maps anything thrown in a request to one catalogue error; unknown errors are logged, not leaked. */
export function toCivicLoopError(error: FastifyError | Error): CivicLoopError {
  if (error instanceof CivicLoopError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return describeValidation(fastifyError);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CivicLoopError('CL_ERR_PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CivicLoopError('CL_ERR_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new CivicLoopError('CL_ERR_BAD_JSON');
    case 'FST_ERR_BAD_URL':
      return new CivicLoopError('CL_ERR_VALIDATION', 'The URL is not validly percent-encoded (e.g. a lone "%"); encode it with encodeURIComponent.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new CivicLoopError('CL_ERR_VALIDATION', 'A path parameter is longer than any id the API uses (100 characters); check the URL.');
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new CivicLoopError('CL_ERR_INTERNAL');
    default:
      break;
  }
  // Redis unreachable, failing over, resharding or restarted: retry shortly (before the generic
  // 400 test below, since some of its errors carry a status of their own).
  if (isRedisUnavailable(error)) return new CivicLoopError('CL_ERR_UNAVAILABLE');
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) return new CivicLoopError('CL_ERR_BAD_JSON');
  return new CivicLoopError('CL_ERR_INTERNAL');
}

/** The Retry-After a catalogue error asks for, if any. */
export function retryAfterOf(error: CivicLoopError): string | undefined {
  if (error.code === 'CL_ERR_RATE_LIMITED') return String((error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 60);
  if (
    error.code === 'CL_ERR_UNAVAILABLE' ||
    error.code === 'CL_ERR_SHUTTING_DOWN' ||
    error.code === 'CL_ERR_NOT_REPLICATED' ||
    error.code === 'CL_ERR_BROKER_UNAVAILABLE'
  )
    return String(UNAVAILABLE_RETRY_AFTER_SECONDS);
  return undefined;
}

/** A failed authentication, or CL_ERR_RATE_LIMITED when the address is past its limit of them. */
export async function limitedAfterFailure(services: Services, request: FastifyRequest, failure: CivicLoopError): Promise<CivicLoopError> {
  const wait = await services.addressLimits.noteAuthFailure(request.ip).catch((error: unknown) => {
    request.log.warn({ err: error }, 'could not count a failed authentication');
    return undefined;
  });
  return wait === undefined
    ? failure
    : new CivicLoopError('CL_ERR_RATE_LIMITED', `Too many failed authentications from this address; wait ${wait} s.`, { retryAfterSeconds: wait });
}

/** Sends a catalogue error as `{ error }`, with Retry-After where it applies. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: CivicLoopError): FastifyReply {
  const retryAfter = retryAfterOf(error);
  if (retryAfter) reply.header('retry-after', retryAfter);
  return reply.code(error.status).send({ error: error.toBody(request.id) });
}

export function installErrorHandling(app: FastifyInstance, services: Services): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    let mapped = toCivicLoopError(error);
    // Every 401, whatever refused it (a key, a token, the operator token, a route's own check),
    // counts against the client's address in Redis, so the limit holds across gateways. Except
    // an expired token: its signature verified, so it is no guess, and residents' sessions end
    // all the time, thousands of them behind one mobile carrier's address; counted, they would
    // shut that address out for everyone on it.
    if (mapped.status === 401 && mapped.code !== 'CL_ERR_TOKEN_EXPIRED') mapped = await limitedAfterFailure(services, request, mapped);
    if (mapped.code === 'CL_ERR_INTERNAL' || mapped.code === 'CL_ERR_UNAVAILABLE') {
      request.log.error({ err: error }, 'request failed');
    }
    return sendError(request, reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new CivicLoopError('CL_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.slice(0, 200)}; see GET /v1/openapi.json.`),
    ),
  );
}

/**
 * fastify's own refusals before any route runs (a URL that is not validly percent-encoded, a
 * path parameter over maxParamLength): a catalogue error like any other, with CORS headers for a
 * page that may read it, or in the format of the API whose prefix the URL starts with (Open311's
 * under /open311/, given by the composition root so this layer does not import routes).
 */
export type PrefixErrorSender = (error: CivicLoopError, request: FastifyRequest, reply: FastifyReply) => unknown;

export function frameworkErrors(
  services: () => Services | undefined,
  byPrefix: Readonly<Record<string, PrefixErrorSender>> = {},
): NonNullable<FastifyServerOptions['frameworkErrors']> {
  return (error, request, reply) => {
    const mapped = toCivicLoopError(error as FastifyError);
    const send = () => {
      const prefix = Object.keys(byPrefix).find((p) => request.url.startsWith(p));
      if (prefix) return byPrefix[prefix]!(mapped, request, reply as FastifyReply);
      return sendError(request, reply as FastifyReply, mapped);
    };
    const known = services();
    if (!known) return void send();
    addErrorCors(request, reply as FastifyReply, known).then(send, send);
  };
}

/**
 * A prefix's own error document for a request Node could not parse: its media type and body.
 * `target` is the request-target as far as it arrived (it may be cut off when it was itself too long).
 */
export type PrefixClientErrorWriter = (error: CivicLoopError, target: string) => { type: string; body: string };

/** The request-target at the start of the bytes Node was parsing (`GET /path HTTP/1.1`), or ''. */
function requestTarget(rawPacket: unknown): string {
  if (!Buffer.isBuffer(rawPacket)) return '';
  // Latin-1 reads any bytes; a target is ASCII when it is valid at all, and the prefix is all we match on.
  const head = rawPacket.toString('latin1', 0, Math.min(rawPacket.length, 32 * 1024));
  return /^[A-Z]{1,20} ([^ \r\n]+)/.exec(head)?.[1] ?? '';
}

/**
 * Requests Node cannot even parse (malformed HTTP, a request line and headers over the limit) are
 * answered with a catalogue error too, in the format of the API whose prefix the request-target
 * starts with (Open311's XML or JSON under /open311/), read from the bytes Node was parsing when it
 * gave up. Those hold the start of the request when it arrived in one read (a loopback or LAN
 * client's request of tens of kilobytes does); when they do not, the answer is the catalogue's
 * JSON, and when they hold a target cut off, the prefix's writer decides from what arrived (Open311:
 * XML, the spec's default, when the cut falls before the path's extension).
 * No CORS headers: the request's Origin cannot be read.
 */
export function clientErrorHandler(
  byPrefix: Readonly<Record<string, PrefixClientErrorWriter>> = {},
): (error: Error & { code?: string; rawPacket?: unknown }, socket: Socket) => void {
  return (error, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const refusal = tooLarge ? new CivicLoopError('CL_ERR_HEADERS_TOO_LARGE') : new CivicLoopError('CL_ERR_VALIDATION', 'The request is not valid HTTP/1.1.');
    const target = requestTarget(error.rawPacket);
    const prefix = Object.keys(byPrefix).find((p) => target.startsWith(p));
    const { type, body } = prefix ? byPrefix[prefix]!(refusal, target) : { type: 'application/json', body: JSON.stringify({ error: refusal.toBody() }) };
    socket.end(
      `HTTP/1.1 ${refusal.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: ` +
        `${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}
