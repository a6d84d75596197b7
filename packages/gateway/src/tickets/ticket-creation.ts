import {
  CivicLoopError,
  calendarDay,
  instantOfLocalTime,
  createTicket,
  type CommandBodies,
  type CreateTicketInput,
  type LikelyDuplicate,
  type Principal,
  type Ticket,
} from '@civicloop/model';
import type { Services } from '../core/services.js';
import type { IdempotencyScope } from '../core/idempotency.js';
import { cellOf } from '../geometry/grid-cells.js';
import { defaultCrsFor, placeLocation } from '../geometry/placement.js';
import { newTicketId, type NearTicket } from '../store/ticket-store.js';
import { notePhotoTickets, type PhotoRefs } from './photo-refs.js';
import type { Router } from './router.js';
import { actorOf, ROUTER_SUB } from './actors.js';

const MAX_DUPLICATES = 20;
/** How far ahead of this gateway's clock a source's receiving time may be: another machine's clock drifts. */
const RECEIVED_DRIFT_MS = 5 * 60_000;

/**
 * A source's receiving time as stored (UTC): with its zone as written, without one (a hotline's
 * wall clock) in the tenant's zone. Refused when it names no real time, or lies ahead of now by
 * more than another machine's clock drifts.
 */
function receivedInstant(text: string, now: Date, timeZone: string): string {
  const at = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? Date.parse(text) : instantOfLocalTime(text, timeZone);
  if (Number.isNaN(at))
    throw new CivicLoopError('CL_ERR_VALIDATION', `receivedAt ${text} names no time that was (in the tenant's zone, ${timeZone}).`, {
      issues: [{ path: '/receivedAt', message: 'no such time' }],
    });
  if (at > now.getTime() + RECEIVED_DRIFT_MS)
    throw new CivicLoopError('CL_ERR_VALIDATION', `receivedAt ${text} is after now (${now.toISOString()}); send when the source received the report.`, {
      issues: [{ path: '/receivedAt', message: 'after now' }],
    });
  return new Date(at).toISOString();
}

/** What creation asks of the ticket service (which creates it, so it is not imported here). */
export interface CreationCommands {
  run(principal: Principal, id: string, name: 'dispatch', body: CommandBodies['dispatch'], idem: undefined): Promise<{ ticket: Ticket }>;
  replay(principal: Principal, record: { fp: string; ticketId: string }, idem: IdempotencyScope): Promise<Ticket>;
}

/** A new report as created; `json`: the ticket as stored, when `ticket` is just that (not routed, no likely duplicates). */
export interface CreationOutcome {
  ticket: Ticket;
  replayed: boolean;
  json?: string;
}

/** The tenant a principal acts in, or CL_ERR_INVALID_KEY if it is gone. */
export async function tenantOf(services: Services, tenantId: string) {
  const context = await services.tenants.context(tenantId);
  if (!context) throw new CivicLoopError('CL_ERR_INVALID_KEY', 'The tenant of this key no longer exists.');
  return context.tenant;
}

/**
 * A new report: placed in WGS-84, numbered and stored in one script, checked for likely
 * duplicates nearby, and, when it has none, routed by its zone's rule as the routing service.
 */
export class TicketCreation {
  private router: Router | undefined;

  constructor(
    private readonly services: Services,
    private readonly photoRefs: PhotoRefs,
    /** Replays an Idempotency-Key's ticket and runs the routing service's dispatch (the ticket service). */
    private readonly commands: CreationCommands,
  ) {}

  useRouter(router: Router): void {
    this.router = router;
  }

  /** `receivedAt`: when the report's source received it (a hotline's call time), kept on the ticket in UTC; never after now. */
  async create(principal: Principal, input: CreateTicketInput, idem: IdempotencyScope | undefined, receivedAt?: string): Promise<CreationOutcome> {
    const { tickets } = this.services;
    // No look-up first: the commit script itself answers a used key with its first result.
    const [tenant, catalogue] = await Promise.all([tenantOf(this.services, principal.tenantId), this.services.categories.catalogue(principal.tenantId)]);
    await this.photoRefs.check(tenant.id, input.photos, 'photos');
    const now = this.services.now();
    const day = calendarDay(now, tenant.policy.timeZone);
    const id = newTicketId();
    // Everything inside is WGS-84; the point as the reporter's map gave it is kept beside it.
    const placed = placeLocation(input.location, defaultCrsFor(principal, tenant.policy));
    const wgs84: CreateTicketInput = { ...input, location: placed.location };
    const { ticket, event } = createTicket(
      await this.linkToBlackSpot(tenant.id, wgs84),
      actorOf(principal),
      { id, number: '', tenantId: tenant.id },
      now,
      catalogue.find,
    );
    if (placed.received) ticket.reportedLocation = placed.received;
    if (receivedAt !== undefined) ticket.receivedAt = receivedInstant(receivedAt, now, tenant.policy.timeZone);
    // Reported through a partner (its resident, its publishable key): its server sees and hears of it.
    if (principal.partnerId) ticket.partnerId = principal.partnerId;
    const { duplicateRadiusMeters } = this.services.config;
    const nearSearch = duplicateRadiusMeters > 0 ? { radiusMeters: duplicateRadiusMeters, count: MAX_DUPLICATES } : undefined;
    const outcome = await tickets.create(tenant.id, { before: undefined, after: ticket, event }, { prefix: `${tenant.code}-${day}-`, day }, idem, nearSearch);
    if (outcome.kind === 'replay') return { ticket: await this.commands.replay(principal, outcome.record, idem!), replayed: true };
    ticket.number = outcome.number;
    await notePhotoTickets(this.services, tenant.id, ticket.id, ticket.photos);
    // A likely duplicate is not routed: a dispatcher decides whether to merge it first. The report
    // is stored either way; a failed look-up of its neighbours only means no flag.
    const duplicates = await this.describeDuplicates(tenant.id, ticket, outcome.near).catch((error: unknown) => {
      this.services.log?.warn({ err: error, ticket: id }, 'likely-duplicate look-up failed');
      return [] as LikelyDuplicate[];
    });
    if (duplicates.length > 0) return { ticket: { ...ticket, likelyDuplicates: duplicates }, replayed: false };
    const routed = await this.autoRoute(tenant.id, ticket);
    return routed ? { ticket: routed, replayed: false } : { ticket, replayed: false, json: outcome.json };
  }

  /** An inspection finding inside an open black spot's cell is linked to the spot (its externalId). */
  private async linkToBlackSpot(tenantId: string, input: CreateTicketInput): Promise<CreateTicketInput> {
    if (input.channel !== 'inspection' || input.externalId) return input;
    const code = await this.services.tickets.openBlackSpotIn(tenantId, cellOf(input.location));
    return code ? { ...input, externalId: `blackspot:${code}` } : input;
  }

  /**
   * Open tickets of the same category within DUPLICATE_RADIUS_METERS, reported within
   * DUPLICATE_WINDOW_HOURS, nearest first. At most 20 are looked at, taken as Redis finds them
   * (ANY): a spot with thousands of open reports must not make every new report slower.
   */
  async likelyDuplicates(tenantId: string, ticket: Ticket): Promise<LikelyDuplicate[]> {
    const { config, tickets } = this.services;
    if (config.duplicateRadiusMeters === 0) return [];
    const near = await tickets.openNear(tenantId, ticket.category, ticket.location, config.duplicateRadiusMeters, MAX_DUPLICATES);
    return this.describeDuplicates(tenantId, ticket, near);
  }

  /** The neighbours (nearest first) that were reported within DUPLICATE_WINDOW_HOURS of the ticket. */
  private async describeDuplicates(tenantId: string, ticket: Ticket, near: NearTicket[]): Promise<LikelyDuplicate[]> {
    const others = near.filter(({ id }) => id !== ticket.id);
    if (others.length === 0) return [];
    const since = Date.parse(ticket.createdAt) - this.services.config.duplicateWindowHours * 3_600_000;
    const found = await this.services.tickets.getMany(
      tenantId,
      others.map(({ id }) => id),
    );
    return found.flatMap((other, i) =>
      other && Date.parse(other.createdAt) >= since
        ? [{ id: other.id, number: other.number, status: other.status, distanceMeters: Math.round(others[i]!.distanceMeters), createdAt: other.createdAt }]
        : [],
    );
  }

  /**
   * Dispatches a new ticket where its zone's rule says, as the routing service. The report is
   * already stored: a routing failure is logged and the ticket waits in the dispatcher queue.
   */
  private async autoRoute(tenantId: string, ticket: Ticket): Promise<Ticket | undefined> {
    if (!this.router) return undefined;
    try {
      const route = await this.router.route(tenantId, ticket);
      if (!route) return undefined;
      const principal: Principal = { tenantId, sub: ROUTER_SUB, role: 'service', name: 'Automatic routing', via: 'secret_key' };
      const body = {
        unitId: route.unitId,
        ...(route.assigneeId ? { assigneeId: route.assigneeId } : {}),
        note: `Routed by zone ${route.zone.name} (${route.zone.id})`,
      };
      return (await this.commands.run(principal, ticket.id, 'dispatch', body, undefined)).ticket;
    } catch (error) {
      this.services.log?.warn({ err: error, ticket: ticket.id }, 'automatic routing failed; the ticket waits in the dispatcher queue');
      return undefined;
    }
  }
}
