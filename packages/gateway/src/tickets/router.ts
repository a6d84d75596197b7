import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { categoryOf, type Ticket, type Zone, type ZoneGeometry } from '@civicloop/model';
import type { Services } from '../services.js';
import type { ZoneStore } from '../store/zone-store.js';
import { findNearestWorker } from '../telemetry/nearest-worker.js';

export interface Route {
  unitId: string;
  /** The nearest checked-in worker of that unit with the category's skills, when there is one. */
  assigneeId?: string;
  /** The zone whose rule chose the unit. */
  zone: Pick<Zone, 'id' | 'name'>;
}

/** Planar area of a geometry in square degrees: only used to order nested zones, smallest first. */
function roughArea(geometry: ZoneGeometry): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let area = 0;
  for (const [outer] of polygons) {
    if (!outer) continue;
    for (let i = 0; i < outer.length - 1; i++) area += outer[i]![0] * outer[i + 1]![1] - outer[i + 1]![0] * outer[i]![1];
  }
  return Math.abs(area) / 2;
}

/** The zones that contain a point, the smallest (most specific) first. */
export async function containingZones(zones: ZoneStore, tenantId: string, at: { lat: number; lon: number }): Promise<Zone[]> {
  const point: [number, number] = [at.lon, at.lat];
  return (await zones.all(tenantId))
    .filter((zone) => booleanPointInPolygon(point, zone.geometry))
    .map((zone) => ({ zone, area: roughArea(zone.geometry) }))
    .sort((a, b) => a.area - b.area)
    .map(({ zone }) => zone);
}

/** The route of a zone for a category: an exact code beats a whole group, which beats "*". */
function matchRoute(zone: Zone, category: string): string | undefined {
  const group = `${category.split('.')[0]}.*`;
  for (const pattern of [category, group, '*']) {
    const route = zone.routes.find((r) => r.categories.includes(pattern));
    if (route) return route.unitId;
  }
  return undefined;
}

/**
 * Responsibility routing for new tickets: the most specific zone containing the report that has
 * a rule for its category names the unit (nested zones: the smallest first, so a village's rule
 * beats its street office's). Within the unit, the nearest checked-in worker with the skills is
 * proposed. With no rule the ticket stays reported, in the dispatcher queue.
 */
export class Router {
  constructor(
    private readonly services: Services,
    private readonly zones: ZoneStore,
  ) {}

  async route(tenantId: string, ticket: Ticket): Promise<Route | undefined> {
    let route: Route | undefined;
    for (const zone of await containingZones(this.zones, tenantId, ticket.location)) {
      const unitId = matchRoute(zone, ticket.category);
      if (unitId) {
        route = { unitId, zone: { id: zone.id, name: zone.name } };
        break;
      }
    }
    if (!route) return undefined;
    const unit = await this.services.directory.getUnit(tenantId, route.unitId);
    if (!unit?.active) return undefined;
    const skills = categoryOf(ticket)?.skills ?? [];
    const worker = await findNearestWorker(this.services.redis, tenantId, { lat: ticket.location.lat, lon: ticket.location.lon, radiusMeters: this.services.config.dispatchRadiusMeters, skills, unitId: route.unitId });
    return worker ? { ...route, assigneeId: worker.staffId } : route;
  }
}
