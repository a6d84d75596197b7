import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Category, CategoryCatalogue, CategoryChange, CategoryDefinition, isStaff } from '@civicloop/model';
import { ADMINS, PEOPLE_AND_PARTNERS, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

const tags = ['catalogue'];
const CodeParams = Type.Object({ code: Type.String({ pattern: '^[a-z0-9_.]{1,80}$', description: 'the category code' }) });
const write = { kind: 'roles', roles: ADMINS } as const;

/**
 * The tenant's catalogue: the built-in categories with the tenant's own definitions. Tickets keep
 * the definition they were reported under; a change applies to reports made after it.
 */
export const catalogueRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/v1/categories',
    {
      config: { access: { kind: 'roles', roles: ['public', ...PEOPLE_AND_PARTNERS] } },
      schema: {
        tags,
        summary: "The tenant's problem categories in groups: names in zh-CN and en, default priority, SLA minutes, skills, extra questions",
        security,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean({ description: 'staff only: include the categories the tenant has disabled' })) }),
        response: { 200: CategoryCatalogue, ...errorResponses },
      },
    },
    async (request, reply) => {
      // Per tenant and changeable: a browser may keep it a minute, a shared cache not at all.
      reply.header('cache-control', 'private, max-age=60');
      const catalogue = await services.categories.catalogue(request.principal.tenantId);
      return catalogue.catalogue({ includeDisabled: request.query.all === true && isStaff(request.principal.role) });
    },
  );

  app.put(
    '/v1/categories/:code',
    {
      config: { access: write },
      schema: {
        tags,
        summary:
          "Define a category: a new one, or the tenant's own version of a built-in one " +
          '(names, group, priority, deadlines, skills, privacy, questions, disabled)',
        security,
        params: CodeParams,
        body: CategoryDefinition,
        response: { 200: Category, ...errorResponses },
      },
    },
    async (request) => services.categories.define(request.principal.tenantId, request.params.code, request.body),
  );

  app.patch(
    '/v1/categories/:code',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Change a category: rename, re-time, disable or enable, change its questions; with expectedVersion only if nobody changed it since',
        security,
        params: CodeParams,
        body: CategoryChange,
        response: { 200: Category, ...errorResponses },
      },
    },
    async (request) => services.categories.change(request.principal.tenantId, request.params.code, request.body),
  );
};
