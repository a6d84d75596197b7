import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { STAFF, type Services } from '../../core/services.js';
import { attendanceOf } from '../../stats/attendance.js';
import type { FleetReads } from '../../store/fleet-reads.js';
import { errorResponses, security } from '../shared-schemas.js';
import { GeoJson, fleetTags as tags } from './position-feature.js';

const read = { kind: 'roles', roles: STAFF } as const;

/** A day's attendance: finished shifts, who is on duty, coverage per unit. */
export const attendanceRoutes: FastifyPluginAsyncTypebox<{ services: Services; fleet: FleetReads }> = async (app, { services, fleet }) => {
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
      const [context, read, devices, staff] = await Promise.all([
        services.tenants.context(tenantId),
        fleet.shifts(tenantId, request.query.day.replaceAll('-', '')),
        services.devices.list(tenantId),
        services.directory.listStaff(tenantId),
      ]);
      return attendanceOf(request.query.day, context?.tenant.policy.timeZone ?? 'Asia/Shanghai', read, devices, staff);
    },
  );
};
