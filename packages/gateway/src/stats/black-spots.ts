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
import { tenantKeys } from '../redis/keys.js';
import type { Services } from '../core/services.js';
import { registerScripts } from '../redis/scripts/index.js';

/** Grid cells of 0.002 degrees: about 220 m north to south, 200 m east to west at Guangzhou. */
const DAY_MS = 86_400_000;

/** What opens a failed inspection's finding ticket (the ticket service; stats sit below tickets, so not named here). */
export interface FindingTickets {
  create(principal: Principal, input: CreateTicketInput, idem: undefined): Promise<{ ticket: Ticket }>;
}

/** The record as stored: what only an opening or an inspection changes. */
type StoredBlackSpot = Omit<BlackSpot, 'ticketsSince' | 'lastTicketAt' | 'escalatedAt'>;

const activityFields = (code: string) => [`${code}:n`, `${code}:at`, `${code}:esc`] as const;

function withActivity(stored: StoredBlackSpot, [since, lastAt, escalatedAt]: (string | null | undefined)[]): BlackSpot {
  return { ...stored, ticketsSince: Number(since ?? 0), lastTicketAt: lastAt ?? stored.openedAt, ...(escalatedAt ? { escalatedAt } : {}) };
}

/**
 * Black spots: places that keep producing tickets. The statistics projector counts reports per
 * grid cell and day; after each batch it asks this to code cells that reached the threshold,
 * note new tickets in cells already coded, and escalate spots open too long. A spot closes out
 * on a passing re-inspection after a quiet period.
 */
export class BlackSpots {
  constructor(private readonly services: Services) {
    registerScripts(services.redis);
  }

  private async get(tenantId: string, code: string): Promise<BlackSpot | undefined> {
    const keys = tenantKeys(tenantId);
    const [raw, activity] = await Promise.all([
      this.services.redis.hget(keys.blackSpots, code),
      this.services.redis.hmget(keys.blackSpotActivity, ...activityFields(code)),
    ]);
    return raw ? withActivity(JSON.parse(raw) as StoredBlackSpot, activity) : undefined;
  }

  private async put(tenantId: string, spot: BlackSpot): Promise<void> {
    const { ticketsSince: _n, lastTicketAt: _at, escalatedAt: _esc, ...stored } = spot;
    await this.services.redis.hset(tenantKeys(tenantId).blackSpots, spot.code, JSON.stringify(stored));
  }

  async list(tenantId: string, status?: 'open' | 'closed'): Promise<BlackSpot[]> {
    const keys = tenantKeys(tenantId);
    const [records, activity] = await Promise.all([this.services.redis.hvals(keys.blackSpots), this.services.redis.hgetall(keys.blackSpotActivity)]);
    const all = records.map((raw) => {
      const stored = JSON.parse(raw) as StoredBlackSpot;
      return withActivity(
        stored,
        activityFields(stored.code).map((field) => activity[field]),
      );
    });
    return all.filter((s) => !status || s.status === status).sort((a, b) => a.code.localeCompare(b.code));
  }

  async one(tenantId: string, code: string): Promise<BlackSpot> {
    const spot = await this.get(tenantId, code);
    if (!spot) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No black spot ${code} in this tenant.`);
    return spot;
  }

  /** After a counted batch: the cells that got new reports (how many, the newest report time). */
  async noteReports(tenantId: string, reports: Map<string, { count: number; at: string }>): Promise<void> {
    const { redis, config } = this.services;
    const keys = tenantKeys(tenantId);
    const context = await this.services.tenants.context(tenantId);
    if (!context) return;
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
    const cellKeys: string[] = [];
    const args: (string | number)[] = [];
    for (const [cell, { count, at }] of reports) {
      const { firstDay, month } = windowOf(at);
      const template = { code: '__CODE__', cell, center: cellCenter(cell), status: 'open', openedAt: at, ticketsWhenOpened: '__TOTAL__', inspections: [] };
      cellKeys.push(keys.stats.cellDays(cell));
      args.push(cell, count, at, firstDay, month, JSON.stringify(template));
    }
    // A cell's counts are needed for the window only (and a day of slack for late counting).
    const ttlMs = (config.blackSpotWindowDays + 1) * DAY_MS;
    await redis.civicloopBlackSpotNote(
      4 + cellKeys.length,
      keys.openBlackSpots,
      keys.blackSpots,
      keys.blackSpotSequence,
      keys.blackSpotActivity,
      ...cellKeys,
      config.blackSpotThreshold,
      ttlMs,
      `BS-${tenant.code}-`,
      ...args,
    );
  }

  /** Spots open longer than BLACKSPOT_ESCALATE_DAYS are escalated, once (HSETNX: once across gateways too). */
  async escalateOld(tenantId: string, now: Date): Promise<number> {
    let escalated = 0;
    const activity = tenantKeys(tenantId).blackSpotActivity;
    for (const spot of await this.list(tenantId, 'open')) {
      if (spot.escalatedAt || Date.parse(spot.openedAt) > now.getTime() - this.services.config.blackSpotEscalateDays * DAY_MS) continue;
      escalated += await this.services.redis.hsetnx(activity, `${spot.code}:esc`, now.toISOString());
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
    await this.put(principal.tenantId, next);
    if (closes) await this.services.redis.hdel(tenantKeys(principal.tenantId).openBlackSpots, spot.cell);
    const reason = closes
      ? undefined
      : input.passed
        ? `the last ticket in the cell was ${spot.lastTicketAt}; it closes out after ` +
          `${this.services.config.blackSpotQuietDays} quiet days and a passing inspection`
        : 'the inspection failed';
    return { spot: next, closed: closes, ...(reason ? { reason } : {}) };
  }
}
