import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, CreateZoneInput, UpdateZoneInput, Zone, isIsoWeek, planInspectionRound, type CrsName } from '@civicloop/model';
import type { Principal } from '@civicloop/model';
import { shapeFromWgs84, shapeToWgs84 } from '../geometry/crs.js';
import { defaultCrsFor } from '../geometry/placement.js';
import { ADMINS, STAFF, type Services } from '../core/services.js';
import { CrsQuery } from './crs-output.js';
import { errorResponses, security } from './shared-schemas.js';

const INSPECTORS = ['supervisor', 'dispatcher', 'admin', 'service'] as const;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const read = { kind: 'roles', roles: [...STAFF, 'partner'] } as const;
const write = { kind: 'roles', roles: ADMINS } as const;
const tags = ['zones'];

/** Zones: GeoJSON areas (streets, villages, grid cells) and the unit responsible per category. */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const zoneRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { zones } = services;

  /** The system a zone's outline was sent in: its own crs, else the key's or the tenant's default. */
  const drawnIn = async (principal: Principal, crs: CrsName | undefined): Promise<CrsName> => {
    if (crs) return crs;
    const context = await services.tenants.context(principal.tenantId);
    return defaultCrsFor(principal, context?.tenant.policy ?? {});
  };
  /** The zones a reader may list: all for staff, a partner's estates for a partner's server. */
  const readable = async (principal: Principal): Promise<(zone: Zone) => boolean> => {
    if (principal.role !== 'partner') return () => true;
    const estates = new Set((await services.partners.active(principal.tenantId, principal.partnerId ?? '')).zones);
    return (zone) => estates.has(zone.id);
  };
  const shown = (zone: Zone, crs: CrsName | undefined): Zone => (crs && crs !== 'wgs84' ? { ...zone, geometry: shapeFromWgs84(zone.geometry, crs) } : zone);

  app.get(
    '/v1/zones',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "List zones (outlines in WGS-84, or in ?crs); a partner's server: its estates",
        security,
        querystring: CrsQuery,
        response: { 200: Type.Object({ items: Type.Array(Zone) }), ...errorResponses },
      },
    },
    async (request) => {
      const mayRead = await readable(request.principal);
      return { items: (await zones.list(request.principal.tenantId)).filter(mayRead).map((zone) => shown(zone, request.query.crs)) };
    },
  );
  app.get(
    '/v1/zones/:id',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'One zone (outline in WGS-84, or in ?crs)',
        security,
        params: IdParams,
        querystring: CrsQuery,
        response: { 200: Zone, ...errorResponses },
      },
    },
    async (request) => {
      const zone = await zones.get(request.principal.tenantId, request.params.id);
      if (!zone || !(await readable(request.principal))(zone)) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No zone ${request.params.id} in this tenant.`);
      return shown(zone, request.query.crs);
    },
  );
  app.post(
    '/v1/zones',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Create a zone (GeoJSON Polygon or MultiPolygon) with its routing rules',
        security,
        body: CreateZoneInput,
        response: { 201: Zone, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { crs, ...input } = request.body;
      const system = await drawnIn(request.principal, crs);
      return reply
        .code(201)
        .send(await zones.create(request.principal.tenantId, { ...input, geometry: shapeToWgs84(input.geometry, system) }, services.now(), system));
    },
  );
  app.patch(
    '/v1/zones/:id',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Change a zone: its name, outline, parent or routing rules',
        security,
        params: IdParams,
        body: UpdateZoneInput,
        response: { 200: Zone, ...errorResponses },
      },
    },
    async (request) => {
      const { crs, geometry, ...patch } = request.body;
      if (!geometry) {
        if (crs)
          throw new CivicLoopError('CL_ERR_VALIDATION', 'crs says which system geometry is drawn in; send it with geometry.', {
            issues: [{ path: '/crs', message: 'only with geometry' }],
          });
        return zones.update(request.principal.tenantId, request.params.id, patch, services.now());
      }
      const system = await drawnIn(request.principal, crs);
      return zones.update(
        request.principal.tenantId,
        request.params.id,
        { ...patch, geometry: shapeToWgs84(geometry, system), drawnIn: system === 'wgs84' ? undefined : system },
        services.now(),
      );
    },
  );
  app.get(
    '/v1/inspections/round',
    {
      config: { access: { kind: 'roles', roles: INSPECTORS } },
      schema: {
        tags,
        summary: 'The inspection round of a week: per district, its must-check central zone and three villages drawn at random, reproducible from the seed',
        security,
        querystring: Type.Object({
          week: Type.String({ pattern: '^\\d{4}-W\\d{2}$', description: 'ISO week, e.g. 2026-W47' }),
          seed: Type.Optional(
            Type.String({ minLength: 1, maxLength: 100, description: 'default: the tenant id; give the recorded seed to re-draw a past round' }),
          ),
          villages: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 3 })),
        }),
        response: {
          200: Type.Object({
            week: Type.String(),
            seed: Type.String(),
            districts: Type.Array(
              Type.Object({ districtId: Type.String(), mustCheck: Type.Union([Type.String(), Type.Null()]), villages: Type.Array(Type.String()) }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { week, seed, villages } = request.query;
      if (!isIsoWeek(week)) throw new CivicLoopError('CL_ERR_VALIDATION', `week ${week} is not an ISO week such as 2026-W47.`);
      const all = await zones.list(request.principal.tenantId);
      return planInspectionRound(all, week, seed ?? request.principal.tenantId, villages ?? 3);
    },
  );
  app.delete(
    '/v1/zones/:id',
    {
      config: { access: write },
      schema: { tags, summary: "Delete a zone that is nobody's parent", security, params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      await zones.remove(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
