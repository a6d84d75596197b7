import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, DeviceKind, calendarDay, type CrsName, type Device, type PositionRecord } from '@civicloop/model';
import { CrsQuery, pointIn } from './crs-output.js';
import { STAFF, type Services } from '../core/services.js';
import { tenantKeys } from '../redis/keys.js';
import type { Shift } from '../telemetry/badge-events.js';
import { errorResponses, security } from './shared-schemas.js';
import { serveRedisStream, type EventStreams } from './sse.js';
import { latestStreamId, type StreamHub } from './stream-hub.js';
import { readPipeline } from '../redis/read-pipeline.js';

const GeoJson = Type.Record(Type.String(), Type.Unknown(), { description: 'a GeoJSON object (RFC 7946)' });
const read = { kind: 'roles', roles: STAFF } as const;
const tags = ['fleet'];

/** A position as a GeoJSON point feature, in `crs` (WGS-84 when absent). */
function feature(record: PositionRecord, device: Device | undefined, online: boolean, crs: CrsName | undefined) {
  const point = crs ? pointIn(record, crs) : record;
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [point.lon, point.lat] },
    properties: {
      deviceId: record.deviceId,
      kind: record.kind,
      name: device?.name ?? record.deviceId,
      staffId: device?.staffId ?? null,
      unitId: device?.unitId ?? null,
      plate: device?.plate ?? null,
      fixTime: new Date(record.fixTime).toISOString(),
      speedKmh: record.speedKmh ?? null,
      course: record.course ?? null,
      battery: record.battery ?? null,
      online,
    },
  };
}

const Tally = Type.Object({ count: Type.Integer(), lastReason: Type.String(), lastAt: Type.Union([Type.String(), Type.Null()]) });

/** The live map, tracks and attendance. */
export const fleetRoutes: FastifyPluginAsyncTypebox<{ services: Services; streams: EventStreams; hub: StreamHub }> = async (
  app,
  { services, streams, hub },
) => {
  const { redis } = services;

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
      const keys = tenantKeys(request.principal.tenantId);
      const kinds = request.query.kind ? [request.query.kind] : (['vehicle', 'badge'] as const);
      const features = [];
      for (const kind of kinds) {
        const ids = await redis.zrange(keys.live(kind), 0, -1);
        if (ids.length === 0) continue;
        const pipeline = readPipeline(redis);
        for (const id of ids) pipeline.hmget(keys.deviceState(id), 'position', 'online');
        const [states, records] = await Promise.all([pipeline.exec(), redis.hmget(keys.devices, ...ids)]);
        for (let i = 0; i < ids.length; i++) {
          const [position, online] = (states?.[i]?.[1] ?? []) as [string | null, string | null];
          if (!position) continue;
          features.push(
            feature(JSON.parse(position) as PositionRecord, records[i] ? (JSON.parse(records[i]!) as Device) : undefined, online === '1', request.query.crs),
          );
        }
      }
      return { type: 'FeatureCollection', features };
    },
  );

  app.get(
    '/v1/devices/:id/state',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "A device's last state: online, last message, last fix, battery",
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: CrsQuery,
        response: {
          200: Type.Object({
            deviceId: Type.String(),
            online: Type.Boolean(),
            lastSeen: Type.Union([Type.String(), Type.Null()]),
            onDutySince: Type.Union([Type.String(), Type.Null()]),
            position: Type.Union([GeoJson, Type.Null()]),
            refused: Type.Union([Tally, Type.Null()], {
              description: 'messages the gateway acknowledged and refused (bad values, topics the device may not use), with the latest reason',
            }),
            ignored: Type.Union([Tally, Type.Null()], {
              description: 'well-formed messages acknowledged and set aside as unused (OwnTracks waypoints, readings without a position...)',
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      const keys = tenantKeys(tenantId);
      const fields = [
        'position',
        'online',
        'lastSeen',
        'refused',
        'lastRefusedReason',
        'lastRefusedAt',
        'ignored',
        'lastIgnoredReason',
        'lastIgnoredAt',
      ] as const;
      const [values, onDuty] = await Promise.all([redis.hmget(keys.deviceState(device.id), ...fields), redis.hget(keys.onDuty, device.id)]);
      const state = Object.fromEntries(fields.map((f, i) => [f, values[i] ?? null])) as Record<(typeof fields)[number], string | null>;
      const tally = (count: string | null, reason: string | null, at: string | null) =>
        count ? { count: Number(count), lastReason: reason ?? '', lastAt: at ? new Date(Number(at)).toISOString() : null } : null;
      return {
        deviceId: device.id,
        online: state.online === '1',
        lastSeen: state.lastSeen ? new Date(Number(state.lastSeen)).toISOString() : null,
        onDutySince: onDuty ? new Date(Number(onDuty)).toISOString() : null,
        position: state.position ? feature(JSON.parse(state.position) as PositionRecord, device, state.online === '1', request.query.crs) : null,
        refused: tally(state.refused, state.lastRefusedReason, state.lastRefusedAt),
        ignored: tally(state.ignored, state.lastIgnoredReason, state.lastIgnoredAt),
      };
    },
  );

  app.get(
    '/v1/devices/:id/track',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "A device's track for a time range as a GeoJSON LineString (times per vertex in properties)",
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), ...CrsQuery.properties }),
        response: { 200: GeoJson, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
      if (to < from) throw new CivicLoopError('CL_ERR_VALIDATION', '`to` is before `from`; swap them.');
      if (to - from > 7 * 86_400_000) throw new CivicLoopError('CL_ERR_VALIDATION', 'A track covers at most 7 days; ask for a shorter range.');
      // Stream ids are arrival times; fixes arrive after they are taken, so read a little past `to`.
      const entries = await redis.xrange(tenantKeys(tenantId).track(device.id), String(from), String(to + 10 * 60_000));
      const fixes = entries
        .map(([, fields]) => JSON.parse(fields[1]!) as PositionRecord)
        .filter((r) => r.valid && r.fixTime >= from && r.fixTime <= to)
        .sort((a, b) => a.fixTime - b.fixTime);
      return {
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: fixes.map((r) => (request.query.crs ? pointIn(r, request.query.crs) : r)).map((p) => [p.lon, p.lat]) },
        properties: {
          deviceId: device.id,
          name: device.name,
          times: fixes.map((r) => new Date(r.fixTime).toISOString()),
          speedsKmh: fixes.map((r) => r.speedKmh ?? null),
        },
      };
    },
  );

  app.get(
    '/v1/attendance',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Attendance of a day: finished shifts, who is on duty now, coverage per unit',
        security,
        querystring: Type.Object({ day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD in the tenant time zone' }) }),
        response: { 200: GeoJson, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const keys = tenantKeys(tenantId);
      const context = await services.tenants.context(tenantId);
      const timeZone = context?.tenant.policy.timeZone ?? 'Asia/Shanghai';
      const day = request.query.day.replaceAll('-', '');
      const [shiftRows, onDutyMap, devices, staff] = await Promise.all([
        redis.lrange(keys.shifts(day), 0, -1),
        redis.hgetall(keys.onDuty),
        services.devices.list(tenantId),
        services.directory.listStaff(tenantId),
      ]);
      const shifts = shiftRows.map((row) => JSON.parse(row) as Shift);
      const byId = new Map(devices.map((d) => [d.id, d]));
      const onDuty = Object.entries(onDutyMap)
        .filter(([, since]) => calendarDay(new Date(Number(since)), timeZone) <= day)
        .map(([deviceId, since]) => ({
          deviceId,
          staffId: byId.get(deviceId)?.staffId ?? null,
          unitId: byId.get(deviceId)?.unitId ?? null,
          since: new Date(Number(since)).toISOString(),
        }));
      const present = new Map<string, Set<string>>();
      for (const entry of [
        ...shifts.map((s) => ({ staffId: s.staffId, unitId: s.unitId })),
        ...onDuty.map((o) => ({ staffId: o.staffId ?? undefined, unitId: o.unitId ?? undefined })),
      ]) {
        if (!entry.staffId || !entry.unitId) continue;
        if (!present.has(entry.unitId)) present.set(entry.unitId, new Set());
        present.get(entry.unitId)!.add(entry.staffId);
      }
      const workersByUnit = new Map<string, number>();
      for (const person of staff)
        if (person.active && person.role === 'worker' && person.unitId) workersByUnit.set(person.unitId, (workersByUnit.get(person.unitId) ?? 0) + 1);
      const coverage = [...workersByUnit.entries()].map(([unitId, workers]) => {
        const count = present.get(unitId)?.size ?? 0;
        return { unitId, workers, present: count, coverage: workers ? count / workers : 0 };
      });
      return {
        day: request.query.day,
        shifts: shifts.map((s) => ({
          ...s,
          start: new Date(s.start).toISOString(),
          end: new Date(s.end).toISOString(),
          minutes: Math.round((s.end - s.start) / 60_000),
        })),
        onDuty,
        coverage,
      };
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
      const key = tenantKeys(request.principal.tenantId).positions;
      const cursor = await latestStreamId(redis, key);
      const throttleMs = request.query.throttleMs ?? 1000;
      const lastSent = new Map<string, number>();
      await serveRedisStream(request, reply, services, streams, hub, {
        key,
        cursor,
        frame: (id, fields) => {
          const record = JSON.parse(fields[1]!) as PositionRecord;
          if (request.query.kind && record.kind !== request.query.kind) return undefined;
          const now = Date.now();
          if (now - (lastSent.get(record.deviceId) ?? 0) < throttleMs) return undefined;
          lastSent.set(record.deviceId, now);
          return `id: ${id}\nevent: position\ndata: ${JSON.stringify(feature(record, undefined, true, request.query.crs))}\n\n`;
        },
      });
    },
  );
};
