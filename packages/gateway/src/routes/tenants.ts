import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Actor, CivicLoopError, CRS_NAMES, CreateTenantInput, Partner, StringEnum, Tenant, TenantKeys, UpdateTenantPolicyInput } from '@civicloop/model';
import { PEOPLE_AND_PARTNERS, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';
import { probeRedisWrites } from '../redis/health-probe.js';

// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const tenantRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/v1/tenants',
    {
      config: { access: { kind: 'operator' } },
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant and its first keys (operator token; keys are shown once)',
        security: [{ bearer: [] }],
        body: CreateTenantInput,
        response: { 201: TenantKeys, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await services.tenants.create(request.body, services.now())),
  );

  app.post(
    '/v1/keys/rotate',
    {
      config: { access: { kind: 'roles', roles: ['service'] } },
      schema: {
        tags: ['tenants'],
        summary: 'Issue a new key of a kind and revoke the previous ones (secret key only). Tokens signed with a revoked secret stop verifying.',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('secret'), Type.Literal('publishable')]),
            defaultCrs: Type.Optional(
              StringEnum(CRS_NAMES, {
                description:
                  'the coordinate system of points sent with the new key that do not name ' +
                  'theirs (an app on a Chinese map: gcj02); absent: the tenant policy decides',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ key: Type.String({ description: 'shown once' }) }), ...errorResponses },
      },
    },
    async (request) => {
      if (request.principal.via !== 'secret_key') throw new CivicLoopError('CL_ERR_FORBIDDEN', 'Only the secret key may rotate keys.');
      return { key: await services.tenants.rotate(request.principal.tenantId, request.body.kind, services.now(), request.body.defaultCrs) };
    },
  );

  app.patch(
    '/v1/tenant/policy',
    {
      config: { access: { kind: 'roles', roles: ['admin', 'service'] } },
      schema: {
        tags: ['tenants'],
        summary: "Change the tenant's rules: allowed web origins, time zone, low-rating reopen threshold, working hours and holidays for deadlines",
        security: [{ bearer: [] }],
        body: UpdateTenantPolicyInput,
        response: { 200: Tenant, ...errorResponses },
      },
    },
    async (request) => services.tenants.updatePolicy(request.principal.tenantId, request.body),
  );

  app.get(
    '/v1/me',
    {
      config: { access: { kind: 'roles', roles: ['public', ...PEOPLE_AND_PARTNERS] } },
      schema: {
        tags: ['tenants'],
        summary: 'Who the credentials act as, and their tenant',
        security,
        response: { 200: Type.Object({ actor: Actor, tenant: Tenant, via: Type.String(), partner: Type.Optional(Partner) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId, via, crs: _crs, partnerId, ...actor } = request.principal;
      const context = await services.tenants.context(tenantId);
      if (!context) throw new CivicLoopError('CL_ERR_INVALID_KEY');
      // Whoever holds a partner's key or token learns which partner it speaks for.
      const partner = partnerId ? await services.partners.get(tenantId, partnerId) : undefined;
      return { actor, tenant: context.tenant, via, ...(partner ? { partner } : {}) };
    },
  );
};

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/v1/health',
    {
      config: { access: { kind: 'none' } },
      schema: {
        tags: ['operations'],
        summary: 'Liveness, Redis reachability, and whether Redis takes writes (degraded when it refuses them: reads still work)',
        security: [],
        response: {
          200: Type.Object({
            status: StringEnum(['ok', 'degraded'] as const),
            redis: Type.Literal('up'),
            writes: StringEnum(['ok', 'refused'] as const),
            reason: Type.Optional(Type.String({ description: "Redis's refusal, e.g. MISCONF (its disk) or OOM (its maxmemory)" })),
          }),
          429: errorResponses[429],
          503: errorResponses[503],
        },
      },
    },
    async () => {
      const health = await probeRedisWrites(services.redis).catch(() => {
        throw new CivicLoopError('CL_ERR_UNAVAILABLE');
      });
      return { status: health.writes === 'ok' ? ('ok' as const) : ('degraded' as const), redis: 'up' as const, ...health };
    },
  );
};
