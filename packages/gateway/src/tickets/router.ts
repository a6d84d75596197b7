import { categoryOf, type Ticket, type Zone } from '@civicloop/model';
import { zonesContaining } from '../geometry/zone-lookup.js';
import type { Services } from '../core/services.js';
import type { ZoneStore } from '../store/zone-store.js';
import { findNearestWorker } from '../store/nearest-worker.js';

export interface Route {
  unitId: string;
  /** The nearest checked-in worker of that unit with the category's skills, when there is one. */
  assigneeId?: string;
  /** The zone whose rule chose the unit. */
  zone: Pick<Zone, 'id' | 'name'>;
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
    for (const zone of zonesContaining(await this.zones.all(tenantId), ticket.location)) {
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
    const worker = await findNearestWorker(this.services.redis, tenantId, {
      lat: ticket.location.lat,
      lon: ticket.location.lon,
      radiusMeters: this.services.config.dispatchRadiusMeters,
      skills,
      unitId: route.unitId,
    });
    return worker ? { ...route, assigneeId: worker.staffId } : route;
  }
}
