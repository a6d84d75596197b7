import {
  CivicLoopError,
  addFollower,
  applyCommand,
  calendarDay,
  createTicket,
  type CommandBodies,
  type CommandName,
  type CreateTicketInput,
  type LikelyDuplicate,
  type Principal,
  type Ticket,
  type TicketCommand,
  type TicketEvent,
} from '@civicloop/model';
import type { Services } from '../core/services.js';
import type { PhotoRefs } from './photo-refs.js';
import { newTicketId, type NearTicket, type TicketWrite } from '../store/ticket-store.js';
import { assertSameRequest, type IdempotencyScope } from '../core/idempotency.js';
import { mustSee } from './visibility.js';
import type { Router } from './router.js';
import { cellOf } from '../geometry/grid-cells.js';
import { defaultCrsFor, placeLocation } from '../geometry/placement.js';
import { photoHashOf } from '../media/media-store.js';
import { MediaUrls } from '../media/media-urls.js';

export interface CommandOutcome {
  ticket: Ticket;
  event: TicketEvent | null;
  replayed: boolean;
}

/** Who acted, as ticket events record it: the principal without how it signed in. */
export function actorOf(principal: Principal) {
  const { tenantId: _t, via: _v, crs: _c, partnerId: _p, ...actor } = principal;
  return actor;
}

/** The actor of automatic dispatches, as it appears in ticket histories. */
export const ROUTER_SUB = 'system:router';

const MAX_DUPLICATES = 20;

export type CommittedListener = (tenantId: string, ticket: Ticket, event: TicketEvent) => Promise<void>;

/** Creating tickets and running commands on them: the state machine plus the store. */
export class TicketService {
  private readonly listeners: CommittedListener[] = [];
  private router: Router | undefined;

  constructor(
    private readonly services: Services,
    private readonly photoRefs: PhotoRefs,
  ) {}

  /**
   * Called after each committed command (not for replays). A failing listener is logged by the
   * caller's logger and does not undo the command, which is already stored.
   */
  onCommitted(listener: CommittedListener): void {
    this.listeners.push(listener);
  }

  /** Routes each new ticket by zone and category (see Router); without one, all wait for a dispatcher. */
  useRouter(router: Router): void {
    this.router = router;
  }

  private async tenant(tenantId: string) {
    const context = await this.services.tenants.context(tenantId);
    if (!context) throw new CivicLoopError('CL_ERR_INVALID_KEY', 'The tenant of this key no longer exists.');
    return context.tenant;
  }

  async create(principal: Principal, input: CreateTicketInput, idem: IdempotencyScope | undefined): Promise<{ ticket: Ticket; replayed: boolean }> {
    const { tickets } = this.services;
    // No look-up first: the commit script itself answers a used key with its first result.
    const [tenant, catalogue] = await Promise.all([this.tenant(principal.tenantId), this.services.categories.catalogue(principal.tenantId)]);
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
    // Reported through a partner (its resident, its publishable key): its server sees and hears of it.
    if (principal.partnerId) ticket.partnerId = principal.partnerId;
    const { duplicateRadiusMeters } = this.services.config;
    const nearSearch = duplicateRadiusMeters > 0 ? { radiusMeters: duplicateRadiusMeters, count: MAX_DUPLICATES } : undefined;
    const outcome = await tickets.create(tenant.id, { before: undefined, after: ticket, event }, { prefix: `${tenant.code}-${day}-`, day }, idem, nearSearch);
    if (outcome.kind === 'replay') return { ticket: await this.replay(principal, outcome.record, idem!), replayed: true };
    ticket.number = outcome.number;
    await this.notePhotos(tenant.id, ticket.id, ticket.photos);
    // A likely duplicate is not routed: a dispatcher decides whether to merge it first. The report
    // is stored either way; a failed look-up of its neighbours only means no flag.
    const duplicates = await this.describeDuplicates(tenant.id, ticket, outcome.near).catch((error: unknown) => {
      this.services.log?.warn({ err: error, ticket: id }, 'likely-duplicate look-up failed');
      return [] as LikelyDuplicate[];
    });
    if (duplicates.length > 0) return { ticket: { ...ticket, likelyDuplicates: duplicates }, replayed: false };
    return { ticket: (await this.autoRoute(tenant.id, ticket)) ?? ticket, replayed: false };
  }

  /** An inspection finding inside an open black spot's cell is linked to the spot (its externalId). */
  private async linkToBlackSpot(tenantId: string, input: CreateTicketInput): Promise<CreateTicketInput> {
    if (input.channel !== 'inspection' || input.externalId) return input;
    const code = await this.services.redis.hget(this.services.tickets.keys(tenantId).openBlackSpots, cellOf(input.location));
    return code ? { ...input, externalId: `blackspot:${code}` } : input;
  }

  /**
   * Open tickets of the same category within DUPLICATE_RADIUS_METERS, reported within
   * DUPLICATE_WINDOW_HOURS, nearest first. At most 20 are looked at, taken as Redis finds them
   * (ANY): a spot with thousands of open reports must not make every new report slower.
   */
  async likelyDuplicates(tenantId: string, ticket: Ticket): Promise<LikelyDuplicate[]> {
    const { config, redis, tickets } = this.services;
    if (config.duplicateRadiusMeters === 0) return [];
    const found = (await redis.call(
      'GEOSEARCH',
      tickets.keys(tenantId).index.openNear(ticket.category),
      'FROMLONLAT',
      ticket.location.lon,
      ticket.location.lat,
      'BYRADIUS',
      config.duplicateRadiusMeters,
      'm',
      'COUNT',
      MAX_DUPLICATES,
      'ANY',
      'WITHDIST',
    )) as [string, string][];
    const near = found.map(([id, distance]) => ({ id, distanceMeters: Number(distance) })).sort((a, b) => a.distanceMeters - b.distanceMeters);
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
      return (await this.apply(principal, ticket.id, 'dispatch', body, undefined)).ticket;
    } catch (error) {
      this.services.log?.warn({ err: error, ticket: ticket.id }, 'automatic routing failed; the ticket waits in the dispatcher queue');
      return undefined;
    }
  }

  /** The ticket an Idempotency-Key already wrote, for a replayed request (the same request, or CL_ERR_IDEMPOTENCY_MISMATCH). */
  async replay(principal: Principal, record: { fp: string; ticketId: string }, idem: IdempotencyScope): Promise<Ticket> {
    assertSameRequest(idem, record.fp);
    const ticket = await this.services.tickets.get(principal.tenantId, record.ticketId, this.services.now());
    if (!ticket) throw new CivicLoopError('CL_ERR_NOT_FOUND', 'The ticket this Idempotency-Key created no longer exists.');
    return ticket;
  }

  async get(principal: Principal, id: string): Promise<Ticket> {
    return mustSee(principal, await this.services.tickets.get(principal.tenantId, id, this.services.now()), id);
  }

  async run<K extends CommandName>(
    principal: Principal,
    id: string,
    name: K,
    body: CommandBodies[K],
    idem: IdempotencyScope | undefined,
  ): Promise<CommandOutcome> {
    try {
      return await this.apply(principal, id, name, body, idem);
    } catch (error) {
      // A retried command usually fails its state check (the first attempt already moved the
      // ticket); only then is it worth asking whether this key already ran. The commit script
      // catches the remaining case, a retry that is still valid, atomically.
      if (!idem || !(error instanceof CivicLoopError) || error.status !== 409) throw error;
      const previous = await this.services.tickets.findIdempotency(principal.tenantId, idem.key);
      if (!previous) throw error;
      return { ticket: await this.replay(principal, previous, idem), event: null, replayed: true };
    }
  }

  private async apply<K extends CommandName>(
    principal: Principal,
    id: string,
    name: K,
    body: CommandBodies[K],
    idem: IdempotencyScope | undefined,
  ): Promise<CommandOutcome> {
    const { tickets, directory } = this.services;
    const tenant = await this.tenant(principal.tenantId);
    const ticket = mustSee(principal, await tickets.get(tenant.id, id), id);
    const command = { ...body, type: name } as TicketCommand;

    if (command.type === 'dispatch' || command.type === 'reassign') {
      await directory.checkAssignment(tenant.id, command.unitId, command.assigneeId);
    }
    if (command.type === 'resolve' || command.type === 'verify') await this.photoRefs.check(tenant.id, command.photos, 'photos');
    const now = this.services.now();
    const actor = actorOf(principal);
    const result = applyCommand(ticket, command, actor, now, { policy: tenant.policy });
    if (!result.ok) throw result.error;
    const writes: TicketWrite[] = [{ before: ticket, after: result.ticket, event: result.event }];
    // Tickets the decision read but does not write: checked at their version in the same commit.
    const read: Ticket[] = [];

    if (command.type === 'merge') {
      const original = await tickets.get(tenant.id, command.into);
      if (!original)
        throw new CivicLoopError('CL_ERR_DUPLICATE_TARGET', `Ticket ${command.into} does not exist in this tenant; merge into an existing ticket.`);
      // An anonymous browser reporter has no identity to follow with.
      if (ticket.reporter.role !== 'public') {
        const follow = addFollower(original, ticket.reporter.sub, ticket.id, actor, now);
        if (!follow.ok) throw follow.error;
        writes.push({ before: original, after: follow.ticket, event: follow.event });
      } else if (['rejected', 'duplicate', 'cancelled'].includes(original.status)) {
        throw new CivicLoopError('CL_ERR_DUPLICATE_TARGET');
      } else {
        // Not written, but merged into: it must not have become a duplicate itself meanwhile.
        read.push(original);
      }
    }

    const outcome = await tickets.apply(tenant.id, writes, idem, read);
    if (outcome.kind === 'replay') return { ticket: await this.replay(principal, outcome.record, idem!), event: null, replayed: true };
    await this.notePhotos(tenant.id, id, result.event.photos ?? []);
    for (const listener of this.listeners) {
      await listener(tenant.id, result.ticket, result.event).catch((error: unknown) =>
        this.services.log?.warn({ err: error, ticket: id }, 'after-command listener failed'),
      );
    }
    return { ticket: result.ticket, event: result.event, replayed: false };
  }

  /**
   * Which tickets each stored photo belongs to, so that a keyless request for a photo is answered
   * only when one of them is published. Written after the ticket: should it fail, the photo is
   * simply not public (it fails closed), and the ticket's readers still get signed links.
   */
  private async notePhotos(tenantId: string, ticketId: string, photos: { ref: string }[]): Promise<void> {
    const hashes = photos.flatMap((p) => {
      const key = MediaUrls.keyOf(p.ref);
      return key ? [photoHashOf(key)] : [];
    });
    if (hashes.length === 0) return;
    const keys = this.services.tickets.keys(tenantId);
    await Promise.all(hashes.map((hash) => this.services.redis.sadd(keys.photoTickets(hash), ticketId))).catch((error: unknown) =>
      this.services.log?.warn({ err: error, ticket: ticketId }, 'could not note which ticket a photo belongs to'),
    );
  }

  async history(principal: Principal, id: string): Promise<TicketEvent[]> {
    await this.get(principal, id);
    return this.services.tickets.history(principal.tenantId, id);
  }

  async byNumber(principal: Principal, number: string): Promise<Ticket> {
    const id = await this.services.redis.hget(this.services.tickets.keys(principal.tenantId).numbers, number);
    if (!id) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ticket numbered ${number} in this tenant.`);
    return this.get(principal, id);
  }
}
