import { CivicLoopError, type Device, type PositionRecord, type Principal } from '@civicloop/model';
import type { GatewayConfig } from '../config.js';
import type { Services } from '../services.js';
import { tenantKeys } from '../redis/keys.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { distanceMeters } from './geo.js';

/**
 * Moves an accepted ticket to on_site when its worker's badge comes within the enter distance
 * and stays there for the dwell time. Only leaving beyond the (larger) exit distance resets the
 * count, so a fix jittering around the edge neither flaps nor restarts it. The event records
 * that the arrival was automatic.
 */
export class ArrivalDetector {
  constructor(
    private readonly services: Services,
    private readonly tickets: TicketService,
    private readonly config: Pick<GatewayConfig, 'arrivalEnterMeters' | 'arrivalExitMeters' | 'arrivalDwellSeconds'>,
  ) {}

  async onPositions(tenantId: string, device: Device, records: PositionRecord[]): Promise<void> {
    if (device.kind !== 'badge' || !device.staffId) return;
    const fixes = records.filter((r) => r.valid).sort((a, b) => a.fixTime - b.fixTime);
    if (fixes.length === 0) return;
    const keys = tenantKeys(tenantId);
    const { redis } = this.services;
    const awaiting = (await redis.call('ZINTER', 2, keys.index.assignee(device.staffId), keys.index.status('accepted'))) as string[];
    for (const ticketId of awaiting) {
      const ticket = await this.services.tickets.get(tenantId, ticketId);
      if (!ticket || ticket.status !== 'accepted') continue;
      for (const fix of fixes) {
        const distance = distanceMeters(fix, ticket.location);
        const arrivalKey = keys.arrival(ticketId);
        if (distance > this.config.arrivalExitMeters) {
          await redis.del(arrivalKey);
          continue;
        }
        if (distance > this.config.arrivalEnterMeters) continue;
        // HSETNX: the first fix inside starts the dwell, later ones do not move it.
        await redis.hsetnx(arrivalKey, 'insideSince', String(fix.fixTime));
        await redis.pexpire(arrivalKey, 86_400_000);
        const since = Number(await redis.hget(arrivalKey, 'insideSince'));
        if (fix.fixTime - since < this.config.arrivalDwellSeconds * 1000) continue;
        await this.arrive(tenantId, device, ticketId, distance, fix.fixTime - since);
        await redis.del(arrivalKey);
        break;
      }
    }
  }

  private async arrive(tenantId: string, device: Device, ticketId: string, distance: number, dwellMs: number): Promise<void> {
    const worker: Principal = { tenantId, sub: device.staffId!, role: 'worker', via: 'token', ...(device.unitId ? { unitId: device.unitId } : {}) };
    try {
      await this.tickets.run(worker, ticketId, 'arrive', { automatic: true, note: `Badge ${device.id} within ${Math.round(distance)} m for ${Math.round(dwellMs / 1000)} s` }, undefined);
    } catch (error) {
      // Another fix (or the worker by hand) got there first: the ticket is on site either way.
      if (error instanceof CivicLoopError && error.status === 409) return;
      throw error;
    }
  }
}
