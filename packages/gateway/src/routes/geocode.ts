import { GeocodedAddresses } from '../store/geocoded-addresses.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CRS_NAMES, Latitude, Longitude, StringEnum } from '@civicloop/model';
import { Geocoder } from '../geometry/geocoder.js';
import { defaultCrsFor, placeLocation } from '../geometry/placement.js';
import { PEOPLE, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

/** GET /v1/geocode/reverse: the address at a point, for the widget's pin (GEOCODER). */
export const geocodeRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const geocoder = new Geocoder(services.config, new GeocodedAddresses(services.redis));
  app.get(
    '/v1/geocode/reverse',
    {
      config: { access: { kind: 'roles', roles: PEOPLE } },
      schema: {
        tags: ['geocode'],
        summary: 'The address at a point, from the geocoder the gateway is configured with (GEOCODER)',
        description:
          'The provider is asked by the gateway (its key stays there); answers are kept per point (about 10 m) and language for ' +
          'GEOCODER_CACHE_SECONDS. address is null where the provider knows none. CL_ERR_GEOCODER_OFF when no geocoder is configured.',
        security,
        querystring: Type.Object(
          {
            lat: Latitude(),
            lon: Longitude(),
            crs: Type.Optional(StringEnum(CRS_NAMES, { description: "the point's coordinate system; the tenant's default when absent" })),
            language: Type.Optional(
              StringEnum(['zh-CN', 'en'] as const, { description: 'the language asked of the provider, zh-CN when absent (AMap answers in Chinese only)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ address: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = (await services.tenants.context(request.principal.tenantId))?.tenant;
      const fallback = tenant ? defaultCrsFor(request.principal, tenant.policy) : 'wgs84';
      const { lat, lon, crs } = request.query;
      const point = placeLocation({ lat, lon, ...(crs ? { crs } : {}) }, fallback).location;
      const address = await geocoder.reverse(point.lat, point.lon, request.query.language ?? 'zh-CN');
      reply.header('cache-control', 'private, max-age=3600');
      return { address };
    },
  );
};
