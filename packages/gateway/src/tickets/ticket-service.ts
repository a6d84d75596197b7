import {
  CivicLoopError,
  addFollower,
  applyCommand,
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
import { notePhotoTickets, type PhotoRefs } from './photo-refs.js';
import type { TicketWrite, WrittenJson } from '../store/ticket-store.js';
import { assertSameRequest, type IdempotencyScope } from '../core/idempotency.js';
import { mustSee } from './visibility.js';
import type { Router } from './router.js';
import { actorOf } from './actors.js';
import { TicketCreation, tenantOf, type CreationOutcome } from './ticket-creation.js';

export interface CommandOutcome {
  ticket: Ticket;
  event: TicketEvent | null;
  replayed: boolean;
  /** `ticket` and `event` as this command stored them, when it wrote them (not on a replay). */
  json?: WrittenJson;
}

export type CommittedListener = (tenantId: string, ticket: Ticket, event: TicketEvent) => Promise<void>;

/** Running commands on tickets (the state machine plus the store); creation is ticket-creation.ts. */
export class TicketService {
  private readonly listeners: CommittedListener[] = [];
  private readonly creation: TicketCreation;

  constructor(
    private readonly services: Services,
    private readonly photoRefs: PhotoRefs,
  ) {
    this.creation = new TicketCreation(services, photoRefs, this);
  }

  /** A new report (ticket-creation.ts): stored, flagged as a likely duplicate, or routed. */
  create(principal: Principal, input: CreateTicketInput, idem: IdempotencyScope | undefined, receivedAt?: string): Promise<CreationOutcome> {
    return this.creation.create(principal, input, idem, receivedAt);
  }

  /** Open tickets of the same category near this one (ticket-creation.ts). */
  likelyDuplicates(tenantId: string, ticket: Ticket): Promise<LikelyDuplicate[]> {
    return this.creation.likelyDuplicates(tenantId, ticket);
  }

  /** Routes each new ticket by zone and category (see Router); without one, all wait for a dispatcher. */
  useRouter(router: Router): void {
    this.creation.useRouter(router);
  }

  /**
   * Called after each committed command (not for replays). A failing listener is logged by the
   * caller's logger and does not undo the command, which is already stored.
   */
  onCommitted(listener: CommittedListener): void {
    this.listeners.push(listener);
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
    const tenant = await tenantOf(this.services, principal.tenantId);
    const command = { ...body, type: name } as TicketCommand;
    // A dispatch's unit (and assignee) are read beside the ticket, in the same command; a missing
    // ticket is still the error a caller hears first.
    const target = command.type === 'dispatch' || command.type === 'reassign' ? command : undefined;
    const found = await tickets.getWith(tenant.id, id, target ? directory.assignmentRecords(tenant.id, target.unitId, target.assigneeId) : []);
    const ticket = mustSee(principal, found.ticket, id);
    if (target) directory.checkAssignment(target.unitId, target.assigneeId, found.beside);
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
    await notePhotoTickets(this.services, tenant.id, id, result.event.photos ?? []);
    for (const listener of this.listeners) {
      await listener(tenant.id, result.ticket, result.event).catch((error: unknown) =>
        this.services.log?.warn({ err: error, ticket: id }, 'after-command listener failed'),
      );
    }
    return { ticket: result.ticket, event: result.event, replayed: false, json: outcome.json };
  }

  async history(principal: Principal, id: string): Promise<TicketEvent[]> {
    await this.get(principal, id);
    return this.services.tickets.history(principal.tenantId, id);
  }

  async byNumber(principal: Principal, number: string): Promise<Ticket> {
    const id = await this.services.tickets.idOfNumber(principal.tenantId, number);
    if (!id) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ticket numbered ${number} in this tenant.`);
    return this.get(principal, id);
  }
}
