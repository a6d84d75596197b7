import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DeviceAlert } from '@civicloop/model';
import { STAFF, type Services } from '../../core/services.js';
import type { FleetReads } from '../../store/fleet-reads.js';
import { RECENT_ALERTS_KEPT } from '../../store/device-state-store.js';
import { CrsQuery } from '../crs-output.js';
import { alertIn } from '../../geometry/crs-output.js';
import { errorResponses, security } from '../shared-schemas.js';
import { fleetTags as tags } from './position-feature.js';

/**
 * The newest device alerts, as the event stream carried them: what a console shows when it opens
 * (after a reload, at a change of shift), so that an SOS raised before it opened is not missed.
 */
export const recentAlertRoutes: FastifyPluginAsyncTypebox<{ services: Services; fleet: FleetReads }> = async (app, { fleet }) => {
  app.get(
    '/v1/fleet/alerts',
    {
      config: { access: { kind: 'roles', roles: STAFF } },
      schema: {
        tags,
        summary: `The newest device alerts (SOS, falls, low batteries, vehicle alarms, confirmations), newest first, at most ${RECENT_ALERTS_KEPT}`,
        description: 'Each place (lat, lon) in WGS-84, as on the event stream, or in the system ?crs names.',
        security,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: RECENT_ALERTS_KEPT, default: 20 }), ...CrsQuery.properties }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                streamId: Type.String({
                  description: "the alert's id on the tenant's event stream, as its SSE frame has it: subscribe from the newest to miss none",
                }),
                alert: DeviceAlert,
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const items = await fleet.recentAlerts(request.principal.tenantId, request.query.limit);
      // The list keeps WGS-84, as the stream does: converted for this answer alone.
      return { items: items.map((item) => ({ ...item, alert: alertIn(item.alert, request.query.crs) })) };
    },
  );
};
