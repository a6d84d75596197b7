import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.js';
import type { StatsProjector } from '../stats/stats-projector.js';
import { STAT_DIMENSIONS, StatsResult } from '@civicloop/model';
import { queryStats, statsAsCsv } from '../stats/stats-query.js';
import { errorResponses, security } from './shared-schemas.js';

/** GET /v1/stats: KPIs of the tickets reported in a date range, from incrementally kept counters. */
export const statsRoutes: FastifyPluginAsyncTypebox<{ services: Services; projector: StatsProjector }> = async (app, { services, projector }) => {
  app.get(
    '/v1/stats',
    {
      config: { access: { kind: 'roles', roles: ['steward', 'dispatcher', 'supervisor', 'admin', 'service'] } },
      schema: {
        tags: ['operations'],
        summary: 'KPIs of the tickets reported from one day to another (tenant time zone), in total or by unit, zone, category, channel or day; format=csv for a spreadsheet',
        security,
        querystring: Type.Object({
          from: Type.String({ format: 'date', description: 'first report day, YYYY-MM-DD' }),
          to: Type.String({ format: 'date', description: 'last report day, YYYY-MM-DD (at most 366 days)' }),
          by: Type.Optional(Type.Union(STAT_DIMENSIONS.map((d) => Type.Literal(d)))),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
        }),
        response: { 200: StatsResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { from, to, by, format } = request.query;
      // Count what has happened up to this request, so the figures are current.
      await projector.catchUp(request.principal.tenantId);
      const groups = await queryStats(services.redis, request.principal.tenantId, { from, to }, by);
      if (format === 'csv') {
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="civicloop-stats-${from}-${to}${by ? `-by-${by}` : ''}.csv"`)
          .send(statsAsCsv(groups, by ?? 'total') as never);
      }
      return { from, to, by: by ?? null, groups };
    },
  );
};
