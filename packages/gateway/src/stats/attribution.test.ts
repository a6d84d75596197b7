import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contributions, difference, HANDLING_BUCKETS, type Attribution } from './attribution.js';

/** The definition difference() must keep: every field of `before` taken away, every field of `after` added. */
function naiveDifference(before: Attribution | undefined, after: Attribution): Map<string, number> {
  const delta = new Map<string, number>();
  for (const field of before ? contributions(before) : []) delta.set(field, (delta.get(field) ?? 0) - 1);
  for (const field of contributions(after)) delta.set(field, (delta.get(field) ?? 0) + 1);
  for (const [field, change] of delta) if (change === 0) delta.delete(field);
  return delta;
}

// Few values per dimension, so that pairs often share some and differ in others.
const attribution: fc.Arbitrary<Attribution> = fc.record(
  {
    day: fc.constantFrom('20261201', '20261202'),
    createdAt: fc.constant('2026-12-01T02:00:00.000Z'),
    category: fc.constantFrom('sanitation.bin_overflow', 'roads.pothole'),
    channel: fc.constantFrom('sdk', 'widget'),
    zone: fc.constantFrom('-', 'z1', 'z2'),
    unit: fc.constantFrom('-', 'u1', 'u2'),
    priority: fc.constantFrom('normal' as const, 'urgent' as const),
    state: fc.constantFrom('reported' as const, 'dispatched' as const, 'resolved' as const, 'closed' as const),
    dispatched: fc.boolean(),
    responded: fc.boolean(),
    respondedOnTime: fc.boolean(),
    resolved: fc.boolean(),
    resolvedOnTime: fc.boolean(),
    handlingBucket: fc.integer({ min: -1, max: HANDLING_BUCKETS.length - 1 }),
    closed: fc.boolean(),
    rated: fc.boolean(),
    satisfied: fc.boolean(),
    sameDay: fc.boolean(),
  },
  { requiredKeys: ['day', 'createdAt', 'category', 'channel', 'zone', 'unit', 'priority', 'state'] },
);

describe('difference', () => {
  it('moves exactly the counts that taking away every field of before and adding every field of after moves', () => {
    fc.assert(
      fc.property(fc.option(attribution, { nil: undefined }), attribution, (before, after) => {
        expect(difference(before, after)).toEqual(naiveDifference(before, after));
      }),
      { numRuns: 2000 },
    );
  });

  it('moves only the unit dimension when only the unit changes, and nothing when nothing does', () => {
    const before: Attribution = {
      day: '20261201',
      createdAt: '2026-12-01T02:00:00.000Z',
      category: 'roads.pothole',
      channel: 'sdk',
      zone: 'z1',
      unit: 'u1',
      priority: 'normal',
      state: 'dispatched',
      dispatched: true,
    };
    expect(difference(before, { ...before, unit: 'u2' })).toEqual(
      new Map([
        ['unit=u1|created', -1],
        ['unit=u1|state:dispatched', -1],
        ['unit=u1|dispatched', -1],
        ['unit=u2|created', 1],
        ['unit=u2|state:dispatched', 1],
        ['unit=u2|dispatched', 1],
      ]),
    );
    expect(difference(before, { ...before })).toEqual(new Map());
  });
});
