import type { ClientContext, Result } from 'ioredis';
import { CivicLoopError, calendarDay, type Actor, type BlackSpot, type BlackSpotInspectionInput, type Principal } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import type { Services } from '../services.js';
import type { TicketService } from '../tickets/ticket-service.js';

/** Grid cells of 0.002 degrees: about 220 m north to south, 200 m east to west at Guangzhou. */
const CELL_DEGREES = 0.002;
const DAY_MS = 86_400_000;

export function cellOf(at: { lat: number; lon: number }): string {
  return `${Math.floor(at.lat / CELL_DEGREES)}:${Math.floor(at.lon / CELL_DEGREES)}`;
}

function cellCenter(cell: string): { lat: number; lon: number } {
  const [row, column] = cell.split(':').map(Number) as [number, number];
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return { lat: round((row + 0.5) * CELL_DEGREES), lon: round((column + 0.5) * CELL_DEGREES) };
}

/** Codes a black spot once per cell: the open-spot slot and the record land together or not at all. */
const OPEN = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local n = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
local code = ARGV[3] .. string.format('%03d', n)
redis.call('HSET', KEYS[1], ARGV[1], code)
local doc = string.gsub(ARGV[4], '__CODE__', code)
redis.call('HSET', KEYS[2], code, doc)
return code
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopBlackSpotOpen(numKeys: number, ...args: (string | number)[]): Result<string | number, Context>;
  }
}

/**
 * Black spots: places that keep producing tickets. The statistics projector counts reports per
 * grid cell and day; after each batch it asks this to code cells that reached the threshold,
 * note new tickets in cells already coded, and escalate spots open too long. A spot closes out
 * on a passing re-inspection after a quiet period.
 */
export class BlackSpots {
  constructor(private readonly services: Services) {
    services.redis.defineCommand('civicloopBlackSpotOpen', { lua: OPEN });
  }

  private async get(tenantId: string, code: string): Promise<BlackSpot | undefined> {
    const raw = await this.services.redis.hget(tenantKeys(tenantId).blackSpots, code);
    return raw ? (JSON.parse(raw) as BlackSpot) : undefined;
  }

  private async put(tenantId: string, spot: BlackSpot): Promise<void> {
    await this.services.redis.hset(tenantKeys(tenantId).blackSpots, spot.code, JSON.stringify(spot));
  }

  async list(tenantId: string, status?: 'open' | 'closed'): Promise<BlackSpot[]> {
    const all = (await this.services.redis.hvals(tenantKeys(tenantId).blackSpots)).map((raw) => JSON.parse(raw) as BlackSpot);
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
    for (const [cell, { count, at }] of reports) {
      const openCode = await redis.hget(keys.openBlackSpots, cell);
      if (openCode) {
        const spot = await this.get(tenantId, openCode);
        if (spot) await this.put(tenantId, { ...spot, ticketsSince: spot.ticketsSince + count, lastTicketAt: at > spot.lastTicketAt ? at : spot.lastTicketAt });
        continue;
      }
      const end = Date.parse(at);
      const days = Array.from({ length: config.blackSpotWindowDays }, (_, i) => calendarDay(new Date(end - i * DAY_MS), tenant.policy.timeZone));
      const counts = await Promise.all(days.map((day) => redis.hget(keys.stats.cells(day), cell)));
      const total = counts.reduce((sum, n) => sum + Number(n ?? 0), 0);
      if (total < config.blackSpotThreshold) continue;
      const month = calendarDay(new Date(end), tenant.policy.timeZone).slice(0, 6);
      const spot: BlackSpot = { code: '__CODE__', cell, center: cellCenter(cell), status: 'open', openedAt: at, ticketsWhenOpened: total, ticketsSince: 0, lastTicketAt: at, inspections: [] };
      await redis.civicloopBlackSpotOpen(3, keys.openBlackSpots, keys.blackSpots, keys.blackSpotSequence, cell, month, `BS-${tenant.code}-${month}-`, JSON.stringify(spot));
    }
  }

  /** Spots open longer than BLACKSPOT_ESCALATE_DAYS are escalated, once. */
  async escalateOld(tenantId: string, now: Date): Promise<number> {
    let escalated = 0;
    for (const spot of await this.list(tenantId, 'open')) {
      if (spot.escalatedAt || Date.parse(spot.openedAt) > now.getTime() - this.services.config.blackSpotEscalateDays * DAY_MS) continue;
      await this.put(tenantId, { ...spot, escalatedAt: now.toISOString() });
      escalated++;
    }
    return escalated;
  }

  /**
   * A re-inspection. Failed: its finding becomes a ticket (channel inspection, linked to the spot
   * by its externalId). Passed after the quiet period: the spot is closed out.
   */
  async inspect(principal: Principal, code: string, input: BlackSpotInspectionInput, tickets: TicketService): Promise<{ spot: BlackSpot; closed: boolean; reason?: string }> {
    const spot = await this.one(principal.tenantId, code);
    if (spot.status === 'closed') throw new CivicLoopError('CL_ERR_INVALID_TRANSITION', `Black spot ${code} is already closed out.`);
    const now = this.services.now();
    const by: Actor = { sub: principal.sub, role: principal.role, ...(principal.name ? { name: principal.name } : {}) };
    let findingTicketId: string | undefined;
    if (!input.passed) {
      if (!input.category) throw new CivicLoopError('CL_ERR_VALIDATION', 'A failed inspection needs the category of what was found, for its finding ticket.');
      const { ticket } = await tickets.create(
        principal,
        { category: input.category, description: input.note ?? `Found at black spot ${code} on re-inspection`, location: { ...spot.center, accuracy: 150 }, channel: 'inspection', externalId: `blackspot:${code}` },
        undefined,
      );
      findingTicketId = ticket.id;
    }
    const inspection = { at: now.toISOString(), by, passed: input.passed, ...(input.note ? { note: input.note } : {}), ...(findingTicketId ? { findingTicketId } : {}) };
    const quietSince = now.getTime() - this.services.config.blackSpotQuietDays * DAY_MS;
    const quiet = Date.parse(spot.lastTicketAt) <= quietSince;
    const closes = input.passed && quiet;
    const next: BlackSpot = { ...spot, inspections: [...spot.inspections, inspection], ...(closes ? { status: 'closed' as const, closedAt: now.toISOString() } : {}) };
    await this.put(principal.tenantId, next);
    if (closes) await this.services.redis.hdel(tenantKeys(principal.tenantId).openBlackSpots, spot.cell);
    const reason = closes ? undefined : input.passed ? `the last ticket in the cell was ${spot.lastTicketAt}; it closes out after ${this.services.config.blackSpotQuietDays} quiet days and a passing inspection` : 'the inspection failed';
    return { spot: next, closed: closes, ...(reason ? { reason } : {}) };
  }
}
