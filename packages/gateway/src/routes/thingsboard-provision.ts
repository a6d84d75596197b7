import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { answerProvisioning } from '../telemetry/provisioning/answer.js';
import { errorResponses } from './shared-schemas.js';

/** The largest provisioning request read: a key, a secret and a name are far less. */
const MAX_REQUEST_BYTES = 4 * 1024;

/**
 * ThingsBoard's HTTP provisioning, `POST /api/v1/provision`: firmware flashed with a provisioning
 * profile's key and secret asks for its own access token (the device secret), and is registered as
 * the profile says. The answer is 200 with ThingsBoard's JSON whether it provisioned or not
 * (`status`: SUCCESS, NOT_FOUND, FAILURE), as ThingsBoard answers; a body that is no provisioning
 * request is 400 (CL_ERR_VALIDATION).
 */
export const thingsBoardProvisionRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  // The body as bytes, whatever its content type says: firmware is not always careful with it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES }, (_request, body, done) => done(null, body));

  // A device protocol, not an API operation: described in docs/devices.md, not in the OpenAPI
  // document, and not under the Idempotency-Key contract. Its credential is the profile's key and
  // secret, in the body.
  const config = { access: { kind: 'device' as const }, idempotency: 'content' as const };
  const Answer = Type.Object(
    {
      status: Type.String(),
      credentialsType: Type.Optional(Type.String()),
      credentialsValue: Type.Optional(Type.String()),
      errorMsg: Type.Optional(Type.String()),
    },
    { description: "ThingsBoard's provisioning answer" },
  );
  app.post(
    '/api/v1/provision',
    { config, bodyLimit: MAX_REQUEST_BYTES, schema: { hide: true, response: { 200: Answer, ...errorResponses } } },
    async (request) => {
      const answer = await answerProvisioning(services, request.ip, (request.body as Buffer | undefined) ?? Buffer.alloc(0));
      if ('unreadable' in answer) throw new CivicLoopError('CL_ERR_VALIDATION', answer.unreadable);
      return answer.response;
    },
  );
};
