import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../core/services.js';
import type { TicketService } from '../tickets/ticket-service.js';
import type { StatsProjector } from '../stats/stats-projector.js';
import { BlackSpot, BlackSpotInspectionInput, MonthlyRanking, STAT_DIMENSIONS, StatsResult, ZoneType } from '@civicloop/model';
import { monthlyRanking, rankingAsCsv } from '../stats/ranking.js';
import { queryStats, statsAsCsv } from '../stats/stats-query.js';
import { errorResponses, security } from './shared-schemas.js';
import { CrsQuery } from './crs-output.js';
import { blackSpotIn } from '../geometry/crs-output.js';

/** GET /v1/stats: KPIs of the tickets reported in a date range, from incrementally kept counters. */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const statsRoutes: FastifyPluginAsyncTypebox<{ services: Services; projector: StatsProjector; ticketService: TicketService }> = async (
  app,
  { services, projector, ticketService },
) => {
  const readers = { kind: 'roles', roles: ['steward', 'dispatcher', 'supervisor', 'admin', 'service'] } as const;
  const Code = Type.Object({ code: Type.String({ minLength: 1, maxLength: 40 }) });

  app.get(
    '/v1/stats',
    {
      config: { access: readers },
      schema: {
        tags: ['operations'],
        summary:
          'KPIs of the tickets reported from one day to another (tenant time zone), in ' +
          'total or by unit, zone, category, channel or day; format=csv for a spreadsheet',
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

  app.get(
    '/v1/blackspots',
    {
      config: { access: readers },
      schema: {
        tags: ['operations'],
        summary: 'Black spots: places that keep producing tickets, coded and tracked until closed out',
        security,
        querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])), ...CrsQuery.properties }),
        response: { 200: Type.Object({ items: Type.Array(BlackSpot) }), ...errorResponses },
      },
    },
    async (request) => {
      await projector.catchUp(request.principal.tenantId);
      const spots = await projector.blackSpots.list(request.principal.tenantId, request.query.status);
      return { items: spots.map((spot) => blackSpotIn(spot, request.query.crs)) };
    },
  );
  app.get(
    '/v1/blackspots/:code',
    {
      config: { access: readers },
      schema: {
        tags: ['operations'],
        summary: 'One black spot with its inspections',
        security,
        params: Code,
        querystring: CrsQuery,
        response: { 200: BlackSpot, ...errorResponses },
      },
    },
    async (request) => {
      await projector.catchUp(request.principal.tenantId);
      return blackSpotIn(await projector.blackSpots.one(request.principal.tenantId, request.params.code), request.query.crs);
    },
  );
  app.post(
    '/v1/blackspots/:code/inspections',
    {
      config: { access: { kind: 'roles', roles: ['supervisor', 'admin', 'service'] } },
      schema: {
        tags: ['operations'],
        summary: 'Record a re-inspection: a failed one opens a finding ticket (channel inspection); a passed one after the quiet period closes the spot out',
        security,
        params: Code,
        body: BlackSpotInspectionInput,
        response: { 200: Type.Object({ spot: BlackSpot, closed: Type.Boolean(), reason: Type.Optional(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      await projector.catchUp(request.principal.tenantId);
      return projector.blackSpots.inspect(request.principal, request.params.code, request.body, ticketService);
    },
  );

  app.get(
    '/v1/rankings/monthly',
    {
      config: { access: readers },
      schema: {
        tags: ['operations'],
        summary:
          'The monthly ranking of the zones of a type (villages, roads, markets, parks, ' +
          'toilets...) by composite score, best and worst first; format=csv for the full report',
        security,
        querystring: Type.Object({
          month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
          type: ZoneType,
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
        }),
        response: {
          200: MonthlyRanking,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { month, type, limit = 5, format } = request.query;
      const tenantId = request.principal.tenantId;
      await projector.catchUp(tenantId);
      const ranked = await monthlyRanking(services, tenantId, month, type, await projector.blackSpots.list(tenantId, 'open'));
      if (format === 'csv') {
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="civicloop-ranking-${type}-${month}.csv"`)
          .send(rankingAsCsv(ranked) as never);
      }
      return { month, type, best: ranked.slice(0, limit), worst: [...ranked].reverse().slice(0, limit), zones: ranked.length };
    },
  );
};
