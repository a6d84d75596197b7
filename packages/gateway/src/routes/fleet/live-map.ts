import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DeviceKind } from '@civicloop/model';
import { STAFF, type Services } from '../../core/services.js';
import type { FleetReads } from '../../store/fleet-reads.js';
import { decodeStoredPosition } from '../../store/stored-position.js';
import { CrsQuery } from '../crs-output.js';
import { errorResponses, security } from '../shared-schemas.js';
import { serveRedisStream, type EventStreams } from '../sse.js';
import { latestStreamId, type StreamHub } from '../../redis/stream-hub.js';
import { GeoJson, fleetTags as tags, positionFeature } from './position-feature.js';

const read = { kind: 'roles', roles: STAFF } as const;

/** The live map: every device's newest fix, and the stream of positions as they are stored. */
export const liveMapRoutes: FastifyPluginAsyncTypebox<{ services: Services; fleet: FleetReads; streams: EventStreams; hub: StreamHub }> = async (
  app,
  { services, fleet, streams, hub },
) => {
  app.get(
    '/v1/fleet',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Live positions as a GeoJSON FeatureCollection of points',
        security,
        querystring: Type.Object({ kind: Type.Optional(DeviceKind), ...CrsQuery.properties }),
        response: { 200: GeoJson, ...errorResponses },
      },
    },
    async (request) => {
      const kinds = request.query.kind ? [request.query.kind] : (['vehicle', 'badge'] as const);
      const live = await fleet.live(request.principal.tenantId, kinds);
      return { type: 'FeatureCollection', features: live.map(({ record, device, online }) => positionFeature(record, device, online, request.query.crs)) };
    },
  );

  app.get(
    '/v1/fleet/events',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Server-sent events of stored positions (event: position, data: a GeoJSON point feature), at most one per device per throttleMs',
        security,
        querystring: Type.Object({
          throttleMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000, default: 1000 })),
          kind: Type.Optional(DeviceKind),
          ...CrsQuery.properties,
        }),
        produces: ['text/event-stream'],
        response: { 200: { description: 'text/event-stream', type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = fleet.positionStream(request.principal.tenantId);
      const cursor = await latestStreamId(services.redis, key);
      const throttleMs = request.query.throttleMs ?? 1000;
      const lastSent = new Map<string, number>();
      await serveRedisStream(request, reply, services, streams, hub, {
        key,
        cursor,
        frame: (id, fields) => {
          const record = decodeStoredPosition(fields[1]!);
          if (request.query.kind && record.kind !== request.query.kind) return undefined;
          const now = Date.now();
          if (now - (lastSent.get(record.deviceId) ?? 0) < throttleMs) return undefined;
          lastSent.set(record.deviceId, now);
          return `id: ${id}\nevent: position\ndata: ${JSON.stringify(positionFeature(record, undefined, true, request.query.crs))}\n\n`;
        },
      });
    },
  );
};
