import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, signWithTokenKey } from '@civicloop/model';
import { AnonymousResidents } from '../store/anonymous-residents.js';
import { signingKeyFor } from '../store/tenant-store.js';
import type { Services } from '../core/services.js';
import { errorResponses } from './shared-schemas.js';

const TOKEN_TTL_SECONDS = 900;

const AnonymousIdentity = Type.Object({
  residentId: Type.String({ description: "The `sub` of this browser's tokens: anon:<random>" }),
  deviceSecret: Type.String({ description: 'Keep in the browser (localStorage); renews the token. Shown once.' }),
  token: Type.String({ description: 'A citizen token for this resident, valid 15 minutes' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/**
 * Anonymous residents: a browser without a login gets an identity bound to it, so it can report
 * and later see its own reports. The identity is a random id plus a secret the browser keeps;
 * the gateway stores only the secret's hash and signs short-lived citizen tokens for the id,
 * with the tenant's token key, exactly like tokens a host platform signs.
 */
export const residentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const anonymous = new AnonymousResidents(services.redis);
  /** Signed with the key of whoever's publishable key asked: the tenant's, or a partner's (so the resident is that partner's). */
  async function tokenFor(tenantId: string, partnerId: string | undefined, residentId: string) {
    const context = await services.tenants.context(tenantId);
    const key = context && signingKeyFor(context, partnerId);
    if (!key)
      throw new CivicLoopError(
        'CL_ERR_INVALID_KEY',
        partnerId
          ? 'The partner has no secret key to sign tokens with; rotate one with POST /v1/partners/{id}/keys/rotate.'
          : 'The tenant has no secret key to sign tokens with; rotate one with POST /v1/keys/rotate.',
      );
    const now = services.now();
    const token = await signWithTokenKey({
      tokenKey: new Uint8Array(key),
      tenantId,
      sub: residentId,
      role: 'citizen',
      ttlSeconds: TOKEN_TTL_SECONDS,
      now,
      anonymous: true,
    });
    return { token, expiresAt: new Date((Math.floor(now.getTime() / 1000) + TOKEN_TTL_SECONDS) * 1000).toISOString() };
  }

  app.post(
    '/v1/residents/anonymous',
    {
      config: { access: { kind: 'roles', roles: ['public'] } },
      schema: {
        tags: ['residents'],
        summary: 'Give this browser an anonymous resident identity (publishable key)',
        security: [{ publishableKey: [] }],
        response: { 201: AnonymousIdentity, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const { residentId, deviceSecret } = await anonymous.create(tenantId);
      return reply.code(201).send({ residentId, deviceSecret, ...(await tokenFor(tenantId, request.principal.partnerId, residentId)) });
    },
  );

  app.post(
    '/v1/residents/anonymous/token',
    {
      config: { access: { kind: 'roles', roles: ['public'] } },
      schema: {
        tags: ['residents'],
        summary: "Renew the token of this browser's anonymous identity",
        security: [{ publishableKey: [] }],
        body: Type.Object(
          { residentId: Type.String({ pattern: '^anon:[A-Za-z0-9_-]{16}$' }), deviceSecret: Type.String({ minLength: 16, maxLength: 64 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Omit(AnonymousIdentity, ['deviceSecret']), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      if (!(await anonymous.renew(tenantId, request.body.residentId, request.body.deviceSecret))) {
        throw new CivicLoopError(
          'CL_ERR_TOKEN_INVALID',
          'This anonymous identity is unknown or its secret does not match; start a new one with POST /v1/residents/anonymous.',
        );
      }
      return { residentId: request.body.residentId, ...(await tokenFor(tenantId, request.principal.partnerId, request.body.residentId)) };
    },
  );
};
