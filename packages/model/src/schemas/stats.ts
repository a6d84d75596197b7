import { Type, type Static } from '@sinclair/typebox';

const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'null when there is nothing to divide by' });

export const STAT_DIMENSIONS = ['category', 'channel', 'unit', 'zone', 'day'] as const;

export const StatGroup = Type.Object({
  key: Type.String({
    description: 'the group (a unit id, zone id, category, channel or YYYY-MM-DD); "all" without by; "-" for none (no unit yet, outside every zone)',
  }),
  created: Type.Integer({ description: 'tickets reported in the range' }),
  byState: Type.Record(Type.String(), Type.Integer(), { description: 'their current states' }),
  onTimeResponseRate: Rate,
  completionRate: Rate,
  onTimeCompletionRate: Rate,
  satisfactionRate: Rate,
  sameDayFollowUpRate: Rate,
  handlingMinutes: Type.Object(
    { median: Type.Union([Type.Integer(), Type.Null()]), p90: Type.Union([Type.Integer(), Type.Null()]) },
    { description: 'report to first resolve: the upper bound of the histogram bucket the median and the 90th percentile fall in' },
  ),
  attendanceCoverage: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description:
      'worker-days present / worker-days on the roster (active workers of the unit), ' +
      'over the range; null by zone, category or channel, and where no day was sampled',
  }),
  vehicleOnlineRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description:
      'samples that found a vehicle online / vehicle samples (every FLEET_SAMPLE_SECONDS, ' +
      'enabled vehicles); null by zone, category or channel, and without vehicles',
  }),
});
export type StatGroup = Static<typeof StatGroup>;

export const StatsResult = Type.Object({ from: Type.String(), to: Type.String(), by: Type.Union([Type.String(), Type.Null()]), groups: Type.Array(StatGroup) });
export type StatsResult = Static<typeof StatsResult>;

/** A zone in the monthly ranking (docs/operations.md#monthly-ranking): rates are null when nothing counted. */
export const RankedZone = Type.Object({
  zoneId: Type.String(),
  name: Type.String(),
  score: Type.Number({ description: '0-100, higher is better (docs/operations.md#monthly-ranking)' }),
  tickets: Type.Integer(),
  onTimeCompletionRate: Type.Union([Type.Number(), Type.Null()]),
  satisfactionRate: Type.Union([Type.Number(), Type.Null()]),
  completionRate: Type.Union([Type.Number(), Type.Null()]),
  openBlackSpots: Type.Integer(),
});
export type RankedZone = Static<typeof RankedZone>;

/** GET /v1/rankings/monthly: the best and the worst zones of a type in a month, and how many were ranked. */
export const MonthlyRanking = Type.Object({
  month: Type.String(),
  type: Type.String(),
  best: Type.Array(RankedZone),
  worst: Type.Array(RankedZone),
  zones: Type.Integer({ description: 'how many zones of the type were ranked' }),
});
export type MonthlyRanking = Static<typeof MonthlyRanking>;
