import { CivicLoopError, OPEN_WORK_STATUSES, addFollower, isPublished, isStaff, type CrsName, type Principal, type TicketStatus } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { defaultCrsFor, placeLocation } from '../geometry/placement.js';
import type { IdempotencyScope } from '../core/idempotency.js';
import { actorOf } from './actors.js';
import type { CommandOutcome, TicketService } from './ticket-service.js';
import { canSee } from './visibility.js';

/** What a resident is shown of someone else's open report nearby: no reporter, no photos. */
export interface NearbyReport {
  id: string;
  number: string;
  status: TicketStatus;
  category: string;
  description: string;
  distanceMeters: number;
  createdAt: string;
  /** Whether the asker already reported or follows it. */
  mine: boolean;
}

/** Open and not yet closed: what a resident can still follow instead of reporting again. */
const FOLLOWABLE: readonly TicketStatus[] = ['reported', ...OPEN_WORK_STATUSES];
/** Looked at, at most, around one point: a busy corner must not make the form slow. */
const LOOKED_AT = 20;

/**
 * "Is it one of these?": before a resident sends a report, the open reports of the same category
 * near the point, so they can follow one instead of filing the same problem again (FixMyStreet's
 * and the 随手拍 mini-programs' step). Only reports the tenant publishes anyway (policy.publicReads
 * and a public category) are shown to residents, and only what Open311 would show of them.
 */
export class Following {
  constructor(
    private readonly services: Services,
    private readonly tickets: TicketService,
  ) {}

  async nearby(principal: Principal, query: { category: string; lat: number; lon: number; crs?: CrsName; limit?: number }): Promise<NearbyReport[]> {
    const { config } = this.services;
    const tenant = (await this.services.tenants.context(principal.tenantId))?.tenant;
    if (!tenant || config.duplicateRadiusMeters === 0) return [];
    const point = placeLocation({ lat: query.lat, lon: query.lon, ...(query.crs ? { crs: query.crs } : {}) }, defaultCrsFor(principal, tenant.policy)).location;
    const store = this.services.tickets;
    const near = (await store.openNear(tenant.id, query.category, point, config.duplicateRadiusMeters, LOOKED_AT)).map((n) => ({
      ...n,
      distanceMeters: Math.round(n.distanceMeters),
    }));
    const since = this.services.now().getTime() - config.duplicateWindowHours * 3_600_000;
    const staff = isStaff(principal.role);
    const [tickets, catalogue] = await Promise.all([
      store.getMany(
        tenant.id,
        near.map((n) => n.id),
      ),
      this.services.categories.catalogue(tenant.id),
    ]);
    return tickets
      .flatMap((ticket, i) => {
        if (!ticket || !FOLLOWABLE.includes(ticket.status) || Date.parse(ticket.createdAt) < since) return [];
        const mine = canSee(principal, ticket) && !staff;
        if (!staff && !mine && !isPublished(ticket, tenant.policy, catalogue.find)) return [];
        return [
          {
            id: ticket.id,
            number: ticket.number,
            status: ticket.status,
            category: ticket.category,
            description: ticket.description.slice(0, 140),
            distanceMeters: near[i]!.distanceMeters,
            createdAt: ticket.createdAt,
            mine,
          },
        ];
      })
      .slice(0, query.limit ?? 5);
  }

  /**
   * The resident follows a report instead of filing it again: they see it in their reports and are
   * told how it ends, as the reporter of a merged duplicate is. Following twice changes nothing.
   */
  async follow(principal: Principal, id: string, note: string | undefined, idem: IdempotencyScope | undefined): Promise<CommandOutcome> {
    if (principal.role !== 'citizen') throw new CivicLoopError('CL_ERR_FORBIDDEN', 'Only residents follow reports; staff see every report already.');
    const tenant = (await this.services.tenants.context(principal.tenantId))?.tenant;
    const store = this.services.tickets;
    const ticket = tenant ? await store.get(tenant.id, id) : undefined;
    if (!tenant || !ticket || !(canSee(principal, ticket) || isPublished(ticket, tenant.policy, (await this.services.categories.catalogue(tenant.id)).find)))
      throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ticket ${id} visible to you in this tenant.`);
    if (ticket.reporter.sub === principal.sub || ticket.followers.includes(principal.sub)) return { ticket, event: null, replayed: false };
    if (!FOLLOWABLE.includes(ticket.status)) {
      throw new CivicLoopError(
        'CL_ERR_INVALID_TRANSITION',
        `Report ${ticket.number} is ${ticket.status}: only an open report can be followed; report the problem again if it is back.`,
        { status: ticket.status, command: 'follow', allowedFrom: FOLLOWABLE },
      );
    }
    const followed = addFollower(ticket, principal.sub, undefined, actorOf(principal), this.services.now());
    if (!followed.ok) throw followed.error;
    const event = note?.trim() ? { ...followed.event, note: note.trim() } : followed.event;
    const outcome = await store.apply(tenant.id, [{ before: ticket, after: followed.ticket, event }], idem);
    if (outcome.kind === 'replay') return { ticket: await this.tickets.replay(principal, outcome.record, idem!), event: null, replayed: true };
    return { ticket: followed.ticket, event, replayed: false };
  }
}
