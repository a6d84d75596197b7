import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, DEFAULT_DECODE_LIMITS, decodeOsmAnd } from '@civicloop/model';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { errorResponses } from './shared-schemas.js';
import { acceptFormBodies } from '../http/form-body.js';
import { refuseBlockedAddress } from './device-secret.js';

const SECRET_PREFIX = 'cl_dk_';

/** The device secret of a request: `key` in the URL, Bearer or Basic auth, or the `id` itself. */
function secretOf(request: FastifyRequest, fields: Record<string, unknown>): string | undefined {
  const query = request.query as Record<string, unknown>;
  if (typeof query.key === 'string' && query.key) return query.key;
  const authorization = request.headers.authorization ?? '';
  const [scheme, value] = authorization.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value) return value;
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
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
    refuseBlockedAddress(services, request.ip, secret);
    const login = await services.devices.login(secret);
    if ('refused' in login) {
      if (login.refused === 'disabled') throw new CivicLoopError('CL_ERR_FORBIDDEN', 'This device is disabled; enable it with PATCH /v1/devices/{id}.');
      throw new CivicLoopError(
        'CL_ERR_INVALID_KEY',
        'The device secret is unknown or was rotated; use the current one from POST /v1/devices/{id}/credentials.',
      );
    }
    const named = fields.id ?? fields.deviceid ?? fields.device_id;
    if (typeof named === 'string' && named !== secret && named !== login.device.id) {
      throw new CivicLoopError(
        'CL_ERR_INVALID_KEY',
        `The secret belongs to device ${login.device.id}, not ${named.slice(0, 64)}; set the app's device identifier to ${login.device.id}.`,
      );
    }
    const telemetry = services.telemetry;
    if (!telemetry) throw new CivicLoopError('CL_ERR_UNAVAILABLE', 'Telemetry is not running on this gateway.');
    const source = { tenantId: login.login.tenantId, device: login.device, counters: telemetry.counters.of(login.login.tenantId) };
    let decoded;
    try {
      decoded = decodeOsmAnd(fields, login.device, Date.now(), DEFAULT_DECODE_LIMITS);
    } catch (error) {
      request.log.warn({ err: error, device: login.device.id }, 'osmand decoder threw');
      decoded = { type: 'rejected' as const, reason: 'decoder_error' as const, detail: 'the decoder could not read this message' };
    }
    const outcome = await telemetry.pipeline.ingest(source, decoded);
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
  // Needs no API key: it carries the device's own secret (and is held by the keyless per-address limit).
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };
  app.get('/v1/osmand', { config, schema }, handler);
  app.post('/v1/osmand', { config, schema }, handler);
};
