import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, DEFAULT_DECODE_LIMITS, decodeOsmAnd } from '@civicloop/model';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { errorResponses } from './shared-schemas.js';
import { acceptFormBodies } from '../http/form-body.js';
import { basicCredentials, deviceOfSecret, ingestOverHttp } from './device-http.js';

const SECRET_PREFIX = 'cl_dk_';

/** The device secret of a request: `key` in the URL, Bearer or Basic auth, or the `id` itself. */
function secretOf(request: FastifyRequest, fields: Record<string, unknown>): string | undefined {
  const query = request.query as Record<string, unknown>;
  if (typeof query.key === 'string' && query.key) return query.key;
  const [scheme, value] = (request.headers.authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value) return value;
  const basic = basicCredentials(request.headers.authorization);
  if (basic) return basic.password;
  const id = fields.id ?? fields.deviceid ?? fields.device_id;
  return typeof id === 'string' && id.startsWith(SECRET_PREFIX) ? id : undefined;
}

/** The request's fields: query parameters, a form body, or Traccar Client's JSON body. */
function fieldsOf(request: FastifyRequest): Record<string, unknown> {
  const query = { ...(request.query as Record<string, unknown>) };
  delete query.key;
  const body = request.body;
  if (body instanceof URLSearchParams) return { ...query, ...Object.fromEntries(body) };
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return { ...query, ...(body as Record<string, unknown>) };
  return query;
}

/**
 * The OsmAnd / Traccar Client HTTP protocol, a way into the telemetry pipeline for phones: a
 * worker's phone running Traccar Client (server URL `https://<gateway>/v1/osmand?key=<device
 * secret>`, device identifier = the device id) is a badge with nothing else installed. Each
 * request is authenticated as its device; the answer is 200 once the position is stored or
 * refused for good, so the app keeps only positions it could not deliver and sends them again.
 */
export const osmAndRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  acceptFormBodies(app, 16 * 1024);

  const handler = async (request: FastifyRequest): Promise<string> => {
    const fields = fieldsOf(request);
    const secret = secretOf(request, fields);
    if (!secret)
      throw new CivicLoopError(
        'CL_ERR_UNAUTHENTICATED',
        'Send the device secret: key=<secret> in the server URL, Authorization: Bearer <secret>, or the secret as id.',
      );
    const login = await deviceOfSecret(services, request.ip, secret);
    const named = fields.id ?? fields.deviceid ?? fields.device_id;
    if (typeof named === 'string' && named !== secret && named !== login.device.id) {
      throw new CivicLoopError(
        'CL_ERR_INVALID_KEY',
        `The secret belongs to device ${login.device.id}, not ${named.slice(0, 64)}; set the app's device identifier to ${login.device.id}.`,
      );
    }
    const outcome = await ingestOverHttp(services, request, login, () => decodeOsmAnd(fields, login.device, Date.now(), DEFAULT_DECODE_LIMITS));
    // A refused position is answered 200 too, with the reason as text: Traccar Client sends its
    // oldest unsent position again until it gets a 2xx, and every later one waits behind it, so
    // a 4xx for a position that can never be stored would stop the phone's reports for good.
    // Whoever looks after the device sees the refusal on GET /v1/devices/{id}/state.
    if (outcome.type === 'refused') return `refused (${outcome.reason}): ${outcome.detail}; set aside\n`;
    return '';
  };

  // A device protocol, not an API operation: described in docs/devices.md, not in the OpenAPI
  // document (as Open311 is not), and not under the Idempotency-Key contract (a resent position is
  // recognised by its device and fix time instead).
  const schema = {
    hide: true,
    response: { 200: Type.String({ description: 'empty once stored; the reason when the position was refused and set aside' }), ...errorResponses },
  };
  // Needs no API key: it carries the device's own secret (limited per device and per address, as authenticated clients are).
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };
  app.get('/v1/osmand', { config, schema }, handler);
  app.post('/v1/osmand', { config, schema }, handler);
};
