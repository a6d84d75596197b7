import { describe, expect, it } from 'vitest';
import { planInspectionRound, type InspectableZone } from './inspections.js';

// Two districts; Tianhe has a street with villages under it and two central zones in rotation.
const zones: InspectableZone[] = [
  { id: 'tianhe', type: 'district' },
  { id: 'yuexiu', type: 'district' },
  { id: 'linhe', type: 'street', parentId: 'tianhe' },
  { id: 'plaza', type: 'market', parentId: 'tianhe', mustCheck: true },
  { id: 'station', type: 'other', parentId: 'linhe', mustCheck: true },
  ...['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((id) => ({ id: `tianhe-${id}`, type: 'village', parentId: 'linhe' })),
  ...['a', 'b'].map((id) => ({ id: `yuexiu-${id}`, type: 'village', parentId: 'yuexiu' })),
  { id: 'stray-village', type: 'village' },
];

describe('planInspectionRound', () => {
  it('draws, per district, its central zone and three distinct villages of that district', () => {
    const round = planInspectionRound(zones, '2026-W47', 'seed-1');
    const [tianhe, yuexiu] = round.districts;
    expect(round.districts.map((d) => d.districtId)).toEqual(['tianhe', 'yuexiu']);
    expect(['plaza', 'station']).toContain(tianhe!.mustCheck);
    expect(tianhe!.villages).toHaveLength(3);
    expect(new Set(tianhe!.villages).size).toBe(3);
    expect(tianhe!.villages.every((v) => v.startsWith('tianhe-v'))).toBe(true);
    // Fewer villages than asked for: all of them; no central zone: null.
    expect(yuexiu).toEqual({ districtId: 'yuexiu', mustCheck: null, villages: expect.arrayContaining(['yuexiu-a', 'yuexiu-b']) });
    expect(yuexiu!.villages).toHaveLength(2);
  });

  it('is reproducible from the seed, whatever order the zones come in, and differs by week and seed', () => {
    const again = planInspectionRound([...zones].reverse(), '2026-W47', 'seed-1');
    expect(again).toEqual(planInspectionRound(zones, '2026-W47', 'seed-1'));
    const weeks = Array.from({ length: 20 }, (_, i) =>
      planInspectionRound(zones, `2026-W${String(i + 1).padStart(2, '0')}`, 'seed-1').districts[0]!.villages.join(),
    );
    expect(new Set(weeks).size).toBeGreaterThan(5);
    const seeds = Array.from({ length: 20 }, (_, i) => planInspectionRound(zones, '2026-W47', `seed-${i}`).districts[0]!.villages.join());
    expect(new Set(seeds).size).toBeGreaterThan(5);
  });

  it('covers every village and rotates the central zones over a year', () => {
    const year = Array.from({ length: 52 }, (_, i) => planInspectionRound(zones, `2026-W${String(i + 1).padStart(2, '0')}`, 'tenant-x').districts[0]!);
    const visited = new Set(year.flatMap((d) => d.villages));
    expect([...visited].sort()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((v) => `tianhe-${v}`));
    expect(new Set(year.map((d) => d.mustCheck))).toEqual(new Set(['plaza', 'station']));
  });

  it('refuses a week that is not an ISO week', () => {
    expect(() => planInspectionRound(zones, '2026-47', 's')).toThrow(/ISO week/);
    expect(() => planInspectionRound(zones, '2026-W54', 's')).toThrow(/ISO week/);
  });
});
