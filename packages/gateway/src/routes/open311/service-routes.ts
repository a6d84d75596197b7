import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../core/services.js';
import { OPEN311_MEDIA_TYPES, answer, servedFormat } from './answer.js';
import { definitionOf, serviceOf } from './format.js';
import { PUBLIC_ROUTE as publicRoute, type Open311Lookups } from './lookups.js';

/** Discovery, the service list and a service's definition (its attributes). */
export const open311ServiceRoutes: FastifyPluginAsync<{ services: Services; lookups: Open311Lookups }> = async (app, { services, lookups }) => {
  const { baseUrl, jurisdiction, paramsOf, knownService } = lookups;

  app.get<{ Params: { format: string } }>('/discovery.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const base = `${baseUrl(request)}/open311/v2`;
    return answer(reply, format, 'discovery', {
      changeset: '2026-11-22T00:00:00Z',
      contact: 'Your city service desk; see the CivicLoop tenant for details.',
      key_service: 'Ask the operator of this CivicLoop tenant for an api_key (its publishable key).',
      endpoints: [
        {
          specification: 'http://wiki.open311.org/GeoReport_v2',
          url: base,
          changeset: '2026-11-22T00:00:00Z',
          type: 'production',
          formats: [...OPEN311_MEDIA_TYPES],
        },
      ],
    });
  });

  app.get<{ Params: { format: string } }>('/services.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const tenant = await jurisdiction(paramsOf(request));
    const catalogue = (await services.categories.catalogue(tenant.id)).catalogue();
    return answer(
      reply,
      format,
      'services',
      catalogue.categories.map((c) => serviceOf(c)),
    );
  });

  app.get<{ Params: { code: string; format: string } }>('/services/:code.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const tenant = await jurisdiction(paramsOf(request));
    // The category's extra questions, as attributes (none: an empty list).
    return answer(reply, format, 'service_definition', definitionOf(await knownService(tenant, request.params.code)));
  });
};
