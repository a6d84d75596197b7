import type { FastifyRequest } from 'fastify';
import { type LoggerOptions, stdSerializers } from 'pino';
import { isRedisCommand, summariseCommand } from '../redis/command-summary.js';

/**
 * What the gateway's log lines may carry. Logs are shipped, kept and read by more people than
 * the data they describe, so two things stay out of them:
 *
 * - Credentials in a URL. Traccar Client sends its device secret as `?key=` (or as `id=`) on
 *   every position, ThingsBoard-style firmware puts it in the path (`/api/v1/<token>/...`), an
 *   Open311 client may put its `api_key` in the query string, and a photo's link carries its
 *   signature. Those values are logged as `[redacted]`; the rest of the URL is logged as it came.
 * - A failed Redis command's arguments. ioredis puts the command on its errors, and a write's
 *   arguments are whole tickets, history entries and events: descriptions, names, phone numbers.
 *   Only the command's name, its keys (for a script) or its first argument when that is one of
 *   our keys, and the number of arguments are logged.
 */
const SECRET_PARAMETERS = new Set(['key', 'api_key', 'apikey', 'token', 'access_token', 'sig', 'secret', 'password']);

/** A value that is a credential whatever its parameter's name: our secrets and signed tokens. */
const CREDENTIAL_VALUE = /^(cl_sk_|cl_dk_|eyJ[\w-]*\.[\w-]*\.)/;

const REDACTED = '[redacted]';

/** ThingsBoard's HTTP device API carries the device's secret as a path segment: `/api/v1/<token>/...`. */
const TOKEN_IN_PATH = /^\/api\/v1\/[^/?#]+/;

/** The URL with the values of its credential parameters (and a token in its path) replaced by `[redacted]`. */
export function redactUrl(raw: string): string {
  const url = raw.replace(TOKEN_IN_PATH, `/api/v1/${REDACTED}`);
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      const name = decodedOrRaw(pair.slice(0, equals)).toLowerCase();
      const value = decodedOrRaw(pair.slice(equals + 1));
      return SECRET_PARAMETERS.has(name) || CREDENTIAL_VALUE.test(value) ? `${pair.slice(0, equals)}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, mark)}?${query}`;
}

function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Errors as pino writes them, with every Redis command in them (nested ones too) summarised. */
export function serializeError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error);
  if (serialized === error || typeof serialized !== 'object' || serialized === null) return withCommandsSummarised(error, 0);
  // pino's copy is new (its prototype gives it a non-enumerable `raw`): summarise in place.
  const record = serialized as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = summarisedProperty(key, record[key], 0);
  return record;
}

/** A copy of a value with every Redis command in it summarised; the value itself is not changed. */
function withCommandsSummarised(value: unknown, depth: number): unknown {
  if (depth > 5 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return serializeError(value);
  if (Array.isArray(value)) return value.map((item) => withCommandsSummarised(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, summarisedProperty(key, inner, depth + 1)]));
}

function summarisedProperty(key: string, value: unknown, depth: number): unknown {
  return key === 'command' && isRedisCommand(value) ? summariseCommand(value) : withCommandsSummarised(value, depth);
}

/** fastify's request line, with credentials in the URL redacted. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * The gateway's logger options: the given level or options, with these serializers added. A
 * logger turned off (`false`) stays off.
 */
export function gatewayLoggerOptions(level: string, given: LoggerOptions | boolean | undefined): LoggerOptions | false {
  if (given === false) return false;
  const options: LoggerOptions = given === undefined || given === true ? { level } : given;
  return { ...options, serializers: { req: serializeRequest, err: serializeError, ...options.serializers } };
}
