import {
  CivicLoopError,
  calendarDay,
  type Actor,
  type BlackSpot,
  type BlackSpotInspectionInput,
  type CreateTicketInput,
  type Principal,
  type Ticket,
} from '@civicloop/model';
import { cellCenter } from '../geometry/grid-cells.js';
import type { Services } from '../core/services.js';
import { BlackSpotStore, type CellReports } from '../store/black-spot-store.js';

/** Grid cells of 0.002 degrees: about 220 m north to south, 200 m east to west at Guangzhou. */
const DAY_MS = 86_400_000;

/** A cell's reports in one counted batch: how many, and the newest one's time (ISO). */
export interface CellCount {
  count: number;
  at: string;
}

/** What opens a failed inspection's finding ticket (the ticket service; stats sit below tickets, so not named here). */
export interface FindingTickets {
  create(principal: Principal, input: CreateTicketInput, idem: undefined): Promise<{ ticket: Ticket }>;
}

/**
 * Black spots: places that keep producing tickets. The statistics projector counts reports per
 * grid cell and day; after each batch it asks this to code cells that reached the threshold,
 * note new tickets in cells already coded, and escalate spots open too long. A spot closes out
 * on a passing re-inspection after a quiet period.
 */
export class BlackSpots {
  private readonly store: BlackSpotStore;

  constructor(private readonly services: Services) {
    this.store = new BlackSpotStore(services.redis);
  }

  async list(tenantId: string, status?: 'open' | 'closed'): Promise<BlackSpot[]> {
    const all = await this.store.list(tenantId);
    return all.filter((s) => !status || s.status === status).sort((a, b) => a.code.localeCompare(b.code));
  }

  async one(tenantId: string, code: string): Promise<BlackSpot> {
    const spot = await this.store.get(tenantId, code);
    if (!spot) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No black spot ${code} in this tenant.`);
    return spot;
  }

  /**
   * After a counted batch (`batch`, its last stream id), kept pending with the statistics cursor:
   * the cells that got new reports (how many, the newest report time). Once per batch, across
   * gateways.
   */
  async noteReports(tenantId: string, batch: string, reports: Map<string, CellCount>): Promise<void> {
    const { config } = this.services;
    const context = await this.services.tenants.context(tenantId);
    if (!context) return this.store.dropPending(tenantId, batch);
    const { tenant } = context;
    // A batch's reports mostly share a minute: their window and month are worked out once.
    const windows = new Map<string, { firstDay: string; month: string }>();
    const windowOf = (at: string) => {
      const minute = at.slice(0, 16);
      let window = windows.get(minute);
      if (!window) {
        const end = Date.parse(at);
        window = {
          firstDay: calendarDay(new Date(end - (config.blackSpotWindowDays - 1) * DAY_MS), tenant.policy.timeZone),
          month: calendarDay(new Date(end), tenant.policy.timeZone).slice(0, 6),
        };
        windows.set(minute, window);
      }
      return window;
    };
    const cells: CellReports[] = [];
    for (const [cell, { count, at }] of reports) {
      const template = { code: '__CODE__', cell, center: cellCenter(cell), status: 'open', openedAt: at, ticketsWhenOpened: '__TOTAL__', inspections: [] };
      cells.push({ cell, count, at, ...windowOf(at), template: JSON.stringify(template) });
    }
    await this.store.noteReports(tenantId, batch, cells, {
      threshold: config.blackSpotThreshold,
      // A cell's counts are needed for the window only (and a day of slack for late counting).
      ttlMs: (config.blackSpotWindowDays + 1) * DAY_MS,
      codePrefix: `BS-${tenant.code}-`,
    });
  }

  /**
   * Notes the batches a gateway counted and stopped before noting (it crashed, or lost Redis
   * between the two calls): run before counting more, so no report is left out of its cell.
   */
  async notePending(tenantId: string): Promise<void> {
    for (const [batch, reports] of await this.store.pendingReports(tenantId)) {
      await this.noteReports(tenantId, batch, new Map(JSON.parse(reports) as [string, CellCount][]));
    }
  }

  /** Spots open longer than BLACKSPOT_ESCALATE_DAYS are escalated, once (HSETNX: once across gateways too). */
  async escalateOld(tenantId: string, now: Date): Promise<number> {
    let escalated = 0;
    for (const spot of await this.list(tenantId, 'open')) {
      if (spot.escalatedAt || Date.parse(spot.openedAt) > now.getTime() - this.services.config.blackSpotEscalateDays * DAY_MS) continue;
      if (await this.store.markEscalated(tenantId, spot.code, now)) escalated++;
    }
    return escalated;
  }

  /**
   * A re-inspection. Failed: its finding becomes a ticket (channel inspection, linked to the spot
   * by its externalId). Passed after the quiet period: the spot is closed out.
   */
  async inspect(
    principal: Principal,
    code: string,
    input: BlackSpotInspectionInput,
    tickets: FindingTickets,
  ): Promise<{ spot: BlackSpot; closed: boolean; reason?: string }> {
    const spot = await this.one(principal.tenantId, code);
    if (spot.status === 'closed') throw new CivicLoopError('CL_ERR_INVALID_TRANSITION', `Black spot ${code} is already closed out.`);
    const now = this.services.now();
    const by: Actor = { sub: principal.sub, role: principal.role, ...(principal.name ? { name: principal.name } : {}) };
    let findingTicketId: string | undefined;
    if (!input.passed) {
      if (!input.category) throw new CivicLoopError('CL_ERR_VALIDATION', 'A failed inspection needs the category of what was found, for its finding ticket.');
      const { ticket } = await tickets.create(
        principal,
        {
          category: input.category,
          description: input.note ?? `Found at black spot ${code} on re-inspection`,
          location: { ...spot.center, accuracy: 150 },
          channel: 'inspection',
          externalId: `blackspot:${code}`,
        },
        undefined,
      );
      findingTicketId = ticket.id;
    }
    const inspection = {
      at: now.toISOString(),
      by,
      passed: input.passed,
      ...(input.note ? { note: input.note } : {}),
      ...(findingTicketId ? { findingTicketId } : {}),
    };
    const quietSince = now.getTime() - this.services.config.blackSpotQuietDays * DAY_MS;
    const quiet = Date.parse(spot.lastTicketAt) <= quietSince;
    const closes = input.passed && quiet;
    const next: BlackSpot = {
      ...spot,
      inspections: [...spot.inspections, inspection],
      ...(closes ? { status: 'closed' as const, closedAt: now.toISOString() } : {}),
    };
    await this.store.put(principal.tenantId, next);
    const reason = closes
      ? undefined
      : input.passed
        ? `the last ticket in the cell was ${spot.lastTicketAt}; it closes out after ` +
          `${this.services.config.blackSpotQuietDays} quiet days and a passing inspection`
        : 'the inspection failed';
    return { spot: next, closed: closes, ...(reason ? { reason } : {}) };
  }
}
