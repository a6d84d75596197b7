import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DEFAULT_DECODE_LIMITS, decodeTelemetry } from '@civicloop/model';
import type { IngestOutcome } from '../telemetry/pipeline.js';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { errorResponses } from './shared-schemas.js';
import { deviceOfSecret, ingestOverHttp } from './device-http.js';
import { thingsBoardRpcRoutes } from './thingsboard-http-rpc.js';

/**
 * ThingsBoard's HTTP device API (reference/http-api), for ThingsBoard-style firmware that posts
 * over HTTP rather than holding an MQTT connection (cellular DTUs, sleeping sensors): the device
 * secret is the access token, a segment of the path. Telemetry is decoded as on the MQTT topic
 * `v1/devices/me/telemetry`; attributes the firmware posts are set aside, and a request for its
 * attributes is answered `{}`, as ThingsBoard answers a device that has none. Commands go to the
 * firmware as ThingsBoard's RPC, by long poll (thingsboard-http-rpc.ts).
 *
 * Where ThingsBoard answers 400 for a body it cannot take, a refused message is answered 200 with
 * the reason in the `CivicLoop-Telemetry` header and counted on the device, as on the other
 * device protocols: firmware that resends until it gets a 2xx is not held up for good by one
 * message that can never be stored. A wrong token is 401, as in ThingsBoard.
 */
export const thingsBoardHttpRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const limits = { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: services.config.telemetryMaxPayloadBytes };
  // Bodies over TELEMETRY_MAX_PAYLOAD_BYTES and up to BODY_LIMIT_BYTES are read, to be refused as
  // too_large with a 200; only a body past both is answered 413.
  const bodyLimit = Math.max(services.config.bodyLimitBytes, limits.maxPayloadBytes + 1);
  // The body as bytes, whatever its content type says: firmware is not always careful with it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  // A device protocol, not an API operation: described in docs/devices.md, not in the OpenAPI
  // document, and not under the Idempotency-Key contract (a resent reading is recognised by its
  // device and time). Its credential is the device's own secret, in the path.
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };
  const params = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) });
  const posted = { hide: true, params, response: { 200: Type.String({ description: 'empty' }), ...errorResponses } };

  const mark = (reply: FastifyReply, outcome: IngestOutcome) => {
    if (outcome.type !== 'accepted') reply.header('civicloop-telemetry', `${outcome.type}; reason=${outcome.reason}`);
    return '';
  };

  app.post('/api/v1/:token/telemetry', { config, schema: posted, bodyLimit }, async (request, reply) => {
    const login = await deviceOfSecret(services, request.ip, request.params.token);
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const topic = { format: 'thingsboard' as const, channel: 'telemetry' as const };
    return mark(reply, await ingestOverHttp(services, request, login, () => decodeTelemetry(topic, body, login.device, Date.now(), limits)));
  });

  app.post('/api/v1/:token/attributes', { config, schema: posted, bodyLimit }, async (request, reply) => {
    const login = await deviceOfSecret(services, request.ip, request.params.token);
    const topic = { format: 'thingsboard' as const, channel: 'other' as const, subtopic: 'attributes' };
    return mark(reply, await ingestOverHttp(services, request, login, () => decodeTelemetry(topic, Buffer.alloc(0), login.device, Date.now(), limits)));
  });

  const answered = {
    hide: true,
    params,
    querystring: Type.Object({ clientKeys: Type.Optional(Type.String()), sharedKeys: Type.Optional(Type.String()) }),
    response: { 200: Type.Object({}, { description: 'no attributes: CivicLoop keeps none' }), ...errorResponses },
  };
  app.get('/api/v1/:token/attributes', { config, schema: answered }, async (request) => {
    await deviceOfSecret(services, request.ip, request.params.token);
    return {};
  });

  // A child, so that the firmware's replies are read by the same any-content-type parser.
  await app.register(thingsBoardRpcRoutes, { services });
};
