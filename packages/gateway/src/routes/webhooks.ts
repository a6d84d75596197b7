import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, CreatedWebhook, CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, type Principal } from '@civicloop/model';
import { ADMINS, type Services } from '../core/services.js';
import type { WebhookStore } from '../store/webhook-store.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const access = { kind: 'roles', roles: [...ADMINS, 'partner'] } as const;
const tags = ['webhooks'];

/** A partner manages its own endpoints only; the tenant's admins and servers see them all. */
const managedBy = (principal: Principal, webhook: Webhook): boolean => principal.role !== 'partner' || webhook.partnerId === principal.partnerId;

/**
 * Webhook endpoints of a tenant (admins and server keys) and their delivery log. A partner's
 * server registers its own: they are sent only events of its residents' tickets.
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: Services; store: WebhookStore }> = async (app, { services, store }) => {
  const mustExist = async (principal: Principal, id: string) => {
    const webhook = await store.get(principal.tenantId, id);
    if (!webhook || !managedBy(principal, webhook)) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No webhook ${id} in this tenant.`);
    return webhook;
  };

  app.post(
    '/v1/webhooks',
    {
      config: { access },
      schema: {
        tags,
        summary: 'Register an endpoint for ticket events; the signing secret is returned once',
        security,
        body: CreateWebhookInput,
        response: { 201: CreatedWebhook, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await store.create(
            request.principal.tenantId,
            request.body,
            services.now(),
            request.principal.role === 'partner' ? request.principal.partnerId : undefined,
          ),
        ),
  );
  app.get(
    '/v1/webhooks',
    {
      config: { access },
      schema: { tags, summary: 'List endpoints', security, response: { 200: Type.Object({ items: Type.Array(Webhook) }), ...errorResponses } },
    },
    async (request) => ({
      items: (await store.list(request.principal.tenantId)).filter((webhook) => managedBy(request.principal, webhook)),
    }),
  );
  app.get(
    '/v1/webhooks/:id',
    { config: { access }, schema: { tags, summary: 'One endpoint', security, params: IdParams, response: { 200: Webhook, ...errorResponses } } },
    async (request) => mustExist(request.principal, request.params.id),
  );
  app.patch(
    '/v1/webhooks/:id',
    {
      config: { access },
      schema: {
        tags,
        summary: "Change an endpoint's URL or events, or pause it (active: false; its deliveries wait)",
        security,
        params: IdParams,
        body: UpdateWebhookInput,
        response: { 200: Webhook, ...errorResponses },
      },
    },
    async (request) => {
      await mustExist(request.principal, request.params.id);
      return store.update(request.principal.tenantId, request.params.id, request.body, services.now());
    },
  );
  app.delete(
    '/v1/webhooks/:id',
    { config: { access }, schema: { tags, summary: 'Remove an endpoint', security, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await mustExist(request.principal, request.params.id);
      await store.remove(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { access },
      schema: {
        tags,
        summary: 'Recent deliveries to an endpoint, newest first, with every attempt',
        security,
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }),
        response: { 200: Type.Object({ items: Type.Array(WebhookDelivery) }), ...errorResponses },
      },
    },
    async (request) => {
      await mustExist(request.principal, request.params.id);
      return { items: await store.deliveries(request.principal.tenantId, request.params.id, request.query.limit ?? 50) };
    },
  );
};
