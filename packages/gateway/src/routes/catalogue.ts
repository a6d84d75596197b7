import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CategoryCatalogue, categoryCatalogue } from '@civicloop/model';
import { PEOPLE } from '../services.js';
import { errorResponses, security } from './shared-schemas.js';

export const catalogueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const catalogue = categoryCatalogue();
  app.get(
    '/v1/categories',
    {
      config: { access: { kind: 'roles', roles: ['public', ...PEOPLE] } },
      schema: {
        tags: ['catalogue'],
        summary: 'Problem categories in groups, with names in zh-CN and en, default priority and SLA minutes',
        security,
        response: { 200: CategoryCatalogue, ...errorResponses },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return catalogue;
    },
  );
};
