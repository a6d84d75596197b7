import { CivicLoopError, type Device, type PositionRecord, type Principal } from '@civicloop/model';
import type { GatewayConfig } from '../core/config.js';
import type { Services } from '../core/services.js';
import { ArrivalStore } from '../store/arrival-store.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { distanceMeters } from '../geometry/distance.js';

/** Sources whose fixes come only now and then, whose devices are asked where they are once their dwell would be up. */
const SPARSE_SOURCES: ReadonlySet<string> = new Set(['owntracks']);
/** A little past the dwell, so that the answer's fix is past it too. */
const ASK_MARGIN_MS = 1000;

/**
 * Moves an accepted ticket to on_site when one of its worker's devices (the badge they wear, the
 * vehicle they drive) comes within the enter distance and stays there for the dwell time, and
 * starts the rework of one sent back to them the same way (a badge-only worker has no other way
 * to). Only leaving beyond the (larger) exit distance resets the count, so a fix jittering around
 * the edge neither flaps nor restarts it. The event records that it was automatic, and which
 * device brought it.
 */
export class ArrivalDetector {
  private readonly approaches: ArrivalStore;
  /** Location requests waiting for a device's dwell to be up, by tenant and device: one at a time each. */
  private readonly asks = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly services: Services,
    private readonly tickets: TicketService,
    private readonly config: Pick<GatewayConfig, 'arrivalEnterMeters' | 'arrivalExitMeters' | 'arrivalDwellSeconds'>,
    /**
     * Asks a device where it is (a location request through its outbox). A phone whose fixes come
     * only now and then is asked once its dwell would be up, instead of the worker waiting for its
     * next fix: OwnTracks in its Significant mode reports on entering a region, then at its ping,
     * 15 minutes on. Without it, the device's next fix decides.
     */
    private readonly askWhere?: (tenantId: string, device: Device) => Promise<unknown>,
  ) {
    this.approaches = new ArrivalStore(services.redis, services.tickets.indexBuilds);
  }

  /** Stops the location requests still waiting (the gateway is closing). */
  stop(): void {
    for (const timer of this.asks.values()) clearTimeout(timer);
    this.asks.clear();
  }

  /** A device with a person (a badge's wearer, a vehicle's driver) can bring them to a ticket. */
  watches(device: Device): device is Device & { staffId: string } {
    return !!device.staffId;
  }

  async onPositions(tenantId: string, device: Device, records: PositionRecord[]): Promise<void> {
    if (!this.watches(device)) return;
    const fixes = records.filter((r) => r.valid).sort((a, b) => a.fixTime - b.fixTime);
    if (fixes.length === 0) return;
    const awaiting = await this.approaches.awaitingArrival(tenantId, device.staffId);
    if (awaiting.length === 0) return;
    const tickets = await this.services.tickets.getMany(tenantId, awaiting);
    // How long until the soonest dwell among the tickets the device is inside of would be up.
    let dwellLeftMs: number | undefined;
    for (const ticket of tickets) {
      if (ticket?.status !== 'accepted' && ticket?.status !== 'rework') continue;
      // The device's hooks run one at a time (see the pipeline), so read, decide over the fixes in
      // memory, and write back once.
      const stored = await this.approaches.insideSince(tenantId, ticket.id, device.id);
      let since = stored;
      let arrived: { distance: number; dwellMs: number; enteredAt: number } | undefined;
      for (const fix of fixes) {
        const distance = distanceMeters(fix, ticket.location);
        if (distance > this.config.arrivalExitMeters) since = undefined;
        else if (distance <= this.config.arrivalEnterMeters) {
          since ??= fix.fixTime;
          if (fix.fixTime - since >= this.config.arrivalDwellSeconds * 1000) {
            arrived = { distance, dwellMs: fix.fixTime - since, enteredAt: since };
            break;
          }
        }
        // Between the enter and exit distances nothing changes: jitter neither starts nor resets.
      }
      if (arrived) {
        await this.arrive(tenantId, device, ticket.id, ticket.status === 'rework' ? 'rework' : 'arrive', arrived);
        await this.approaches.forget(tenantId, ticket.id);
      } else if (since === undefined) {
        if (stored !== undefined) await this.approaches.left(tenantId, ticket.id, device.id);
      } else {
        if (since !== stored) await this.approaches.setInsideSince(tenantId, ticket.id, device.id, since);
        const left = since + this.config.arrivalDwellSeconds * 1000 - fixes.at(-1)!.fixTime;
        dwellLeftMs = Math.min(dwellLeftMs ?? left, left);
      }
    }
    // Still inside one without its dwell: asked when it would be up. (A request already waiting
    // is not taken back when the device arrives or leaves by a fix of its own meanwhile: its
    // answer is stored as any position is.)
    if (dwellLeftMs !== undefined && SPARSE_SOURCES.has(fixes.at(-1)!.source)) this.askWhenDwelt(tenantId, device, dwellLeftMs);
  }

  /**
   * Asks the device where it is once `remainingMs` (of its own clock's dwell) have passed, unless
   * a request for it already waits. Held in this gateway's memory: if it stops first, the
   * device's next fix decides, as it would have without the request.
   */
  private askWhenDwelt(tenantId: string, device: Device, remainingMs: number): void {
    const key = `${tenantId} ${device.id}`;
    if (!this.askWhere || this.asks.has(key)) return;
    const timer = setTimeout(() => {
      this.asks.delete(key);
      // A request that could not be given (Redis away): the device's next fix decides.
      this.askWhere!(tenantId, device).catch(() => undefined);
    }, Math.max(0, remainingMs) + ASK_MARGIN_MS);
    timer.unref();
    this.asks.set(key, timer);
  }

  /**
   * The worker arrived (or, back for a rework, started it) when the device first came within the
   * enter distance, by its own fix time: positions a device stored while out of coverage and sends
   * later (JT/T 808 blind-area uploads, an MQTT session resumed) date it when it happened, not
   * when they got through.
   */
  private async arrive(
    tenantId: string,
    device: Device,
    ticketId: string,
    command: 'arrive' | 'rework',
    { distance, dwellMs, enteredAt }: { distance: number; dwellMs: number; enteredAt: number },
  ): Promise<void> {
    const worker: Principal = { tenantId, sub: device.staffId!, role: 'worker', via: 'token', ...(device.unitId ? { unitId: device.unitId } : {}) };
    try {
      await this.tickets.run(
        worker,
        ticketId,
        command,
        {
          automatic: true,
          occurredAt: new Date(enteredAt).toISOString(),
          note: `${device.kind === 'badge' ? 'Badge' : 'Vehicle'} ${device.id} within ${Math.round(distance)} m for ${Math.round(dwellMs / 1000)} s`,
        },
        undefined,
      );
    } catch (error) {
      // Another fix (or the worker by hand) got there first: the ticket is on site either way.
      if (error instanceof CivicLoopError && error.status === 409) return;
      throw error;
    }
  }
}
