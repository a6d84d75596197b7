import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import { CivicLoopError, type BlackSpot, type RankedZone, type StatGroup, type Zone } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { csvFile } from './csv.js';
import { queryStats } from './stats-query.js';

/** Weights of the composite score; see docs/operations.md#monthly-ranking. */
export const SCORE_WEIGHTS = { onTimeCompletion: 35, satisfaction: 25, completion: 20, fewTickets: 20, perOpenBlackSpot: 5 } as const;

/**
 * The composite score of a zone for a month, 0 to 100, higher is better: how well its problems
 * were handled (on time, to satisfaction, at all), how few there were compared with the zone of
 * its type with the most, less a penalty per black spot still open in it. A rate with nothing to
 * measure counts as perfect: nothing went wrong.
 */
export function compositeScore(
  stats: Pick<StatGroup, 'created' | 'onTimeCompletionRate' | 'satisfactionRate' | 'completionRate'> | undefined,
  mostTickets: number,
  openBlackSpots: number,
): number {
  const rate = (value: number | null | undefined) => value ?? 1;
  const tickets = stats?.created ?? 0;
  const w = SCORE_WEIGHTS;
  const score =
    w.onTimeCompletion * rate(stats?.onTimeCompletionRate) +
    w.satisfaction * rate(stats?.satisfactionRate) +
    w.completion * rate(stats?.completionRate) +
    w.fewTickets * (mostTickets > 0 ? 1 - tickets / mostTickets : 1) -
    w.perOpenBlackSpot * openBlackSpots;
  return Math.max(0, Math.round(score * 10) / 10);
}

function monthRange(month: string): { from: string; to: string } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new CivicLoopError('CL_ERR_VALIDATION', `month ${month} is not like 2026-11.`);
  const last = new Date(Date.UTC(Number(match[1]), Number(match[2]), 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

/** Every zone of a type, ranked by its composite score for a month (reports of that month). */
export async function monthlyRanking(services: Services, tenantId: string, month: string, type: Zone['type'], openSpots: BlackSpot[]): Promise<RankedZone[]> {
  const zones = (await services.zones.list(tenantId)).filter((z) => z.type === type);
  const stats = new Map((await queryStats(services.redis, tenantId, monthRange(month), 'zone')).map((g) => [g.key, g]));
  const mostTickets = Math.max(0, ...zones.map((z) => stats.get(z.id)?.created ?? 0));
  return zones
    .map((zone) => {
      const s = stats.get(zone.id);
      const spots = openSpots.filter((spot) => booleanPointInPolygon([spot.center.lon, spot.center.lat], zone.geometry)).length;
      return {
        zoneId: zone.id,
        name: zone.name,
        score: compositeScore(s, mostTickets, spots),
        tickets: s?.created ?? 0,
        onTimeCompletionRate: s?.onTimeCompletionRate ?? null,
        satisfactionRate: s?.satisfactionRate ?? null,
        completionRate: s?.completionRate ?? null,
        openBlackSpots: spots,
      };
    })
    .sort((a, b) => b.score - a.score || a.zoneId.localeCompare(b.zoneId));
}

export function rankingAsCsv(ranked: RankedZone[]): string {
  const header = ['rank', 'zone_id', 'name', 'score', 'tickets', 'on_time_completion_rate', 'satisfaction_rate', 'completion_rate', 'open_black_spots'];
  return csvFile(
    header,
    ranked.map((r, i) => [i + 1, r.zoneId, r.name, r.score, r.tickets, r.onTimeCompletionRate, r.satisfactionRate, r.completionRate, r.openBlackSpots]),
  );
}
