import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, CreatePartnerInput, Partner, PartnerKeys, UpdatePartnerInput, type Principal } from '@civicloop/model';
import { ADMINS, type Services } from '../core/services.js';
import type { PartnerStore } from '../store/partner-store.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['partners'];
const admins = { kind: 'roles', roles: ADMINS } as const;
const adminsOrThePartner = { kind: 'roles', roles: [...ADMINS, 'partner'] } as const;

/** A partner's server reaches its own record only; it learns nothing of other partners, not even that they exist. */
function mustBeSelfOrTenant(principal: Principal, id: string): void {
  if (principal.role === 'partner' && principal.partnerId !== id) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No partner ${id} in this tenant.`);
}

/**
 * Partners: property-management platforms inside a tenant, created by its admins. Each has its
 * own secret and publishable keys; with them it signs tokens for its own residents only and reads
 * only what concerns them (docs/partners.md).
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const partnerRoutes: FastifyPluginAsyncTypebox<{ services: Services; partners: PartnerStore }> = async (app, { services, partners }) => {
  app.post(
    '/v1/partners',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: 'Create a partner (a property platform) and its first keys (shown once)',
        security,
        body: CreatePartnerInput,
        response: { 201: PartnerKeys, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await partners.create(request.principal.tenantId, request.body, services.now())),
  );

  app.get(
    '/v1/partners',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: "The tenant's partners, disabled ones included",
        security,
        response: { 200: Type.Object({ items: Type.Array(Partner) }), ...errorResponses },
      },
    },
    async (request) => ({
      items: await partners.list(request.principal.tenantId),
    }),
  );

  app.get(
    '/v1/partners/:id',
    {
      config: { access: adminsOrThePartner },
      schema: { tags, summary: 'One partner (a partner reads its own)', security, params: IdParams, response: { 200: Partner, ...errorResponses } },
    },
    async (request) => {
      mustBeSelfOrTenant(request.principal, request.params.id);
      const partner = await partners.get(request.principal.tenantId, request.params.id);
      if (!partner) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No partner ${request.params.id} in this tenant.`);
      return partner;
    },
  );

  app.patch(
    '/v1/partners/:id',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: 'Rename a partner or change its estates (the zones it lists)',
        security,
        params: IdParams,
        body: UpdatePartnerInput,
        response: { 200: Partner, ...errorResponses },
      },
    },
    async (request) => partners.update(request.principal.tenantId, request.params.id, request.body, services.now()),
  );

  app.delete(
    '/v1/partners/:id',
    {
      config: { access: admins },
      schema: {
        tags,
        summary: "Disable a partner: its keys and its residents' tokens stop working, its webhooks are removed; its tickets stay",
        security,
        params: IdParams,
        response: { 200: Partner, ...errorResponses },
      },
    },
    async (request) => partners.disable(request.principal.tenantId, request.params.id, services.now()),
  );

  app.post(
    '/v1/partners/:id/keys/rotate',
    {
      config: { access: adminsOrThePartner },
      schema: {
        tags,
        summary: 'Issue a partner a new key of a kind and revoke its previous ones (tenant admins, or the partner with its secret key); no other key changes',
        security,
        params: IdParams,
        body: Type.Object({ kind: Type.Union([Type.Literal('secret'), Type.Literal('publishable')]) }, { additionalProperties: false }),
        response: { 200: Type.Object({ key: Type.String({ description: 'shown once' }) }), ...errorResponses },
      },
    },
    async (request) => {
      mustBeSelfOrTenant(request.principal, request.params.id);
      return { key: await partners.rotate(request.principal.tenantId, request.params.id, request.body.kind, services.now()) };
    },
  );
};
