import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../core/services.js';
import { FleetReads } from '../../store/fleet-reads.js';
import type { EventStreams } from '../sse.js';
import type { StreamHub } from '../../redis/stream-hub.js';
import { attendanceRoutes } from './attendance.js';
import { deviceHistoryRoutes } from './device-history.js';
import { liveMapRoutes } from './live-map.js';
import { recentAlertRoutes } from './recent-alerts.js';

/** The fleet as telemetry wrote it: the live map, a device's state and track, attendance, the newest alerts. */
export const fleetRoutes: FastifyPluginAsync<{ services: Services; streams: EventStreams; hub: StreamHub }> = async (app, { services, streams, hub }) => {
  const fleet = new FleetReads(services.redis);
  await app.register(liveMapRoutes, { services, fleet, streams, hub });
  await app.register(deviceHistoryRoutes, { services, fleet });
  await app.register(attendanceRoutes, { services, fleet });
  await app.register(recentAlertRoutes, { services, fleet });
};
