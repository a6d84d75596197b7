/**
 * Weekly inspection rounds: in every district, the must-check central zone and a few villages
 * drawn at random, so that supervisors' covert checks cover the whole territory over time while
 * nobody can predict where they go next. The draw is reproducible: the same zones, week and seed
 * give the same round, so an auditor can verify that a round was not picked by hand.
 */
export interface InspectableZone {
  id: string;
  type: string;
  parentId?: string;
  mustCheck?: boolean;
}

export interface InspectionRound {
  week: string;
  seed: string;
  districts: { districtId: string; mustCheck: string | null; villages: string[] }[];
}

const WEEK = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/;

export function isIsoWeek(week: string): boolean {
  return WEEK.test(week);
}

/** cyrb53: a small, well-spread string hash; the same on every platform. */
function hash(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** mulberry32: a seeded generator of floats in [0, 1), small, fast and reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws `count` of `items` without replacement (a partial Fisher-Yates shuffle). */
function draw<T>(items: T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) {
    const index = Math.floor(random() * pool.length);
    out.push(pool.splice(index, 1)[0]!);
  }
  return out;
}

/**
 * The round of a week. A district is a zone of type "district"; its villages are the zones of
 * type "village" below it (at any depth); its must-check zone is one below it (or itself) marked
 * mustCheck, in rotation when there are several. Zones are taken in id order, so the order they
 * are given in changes nothing.
 */
export function planInspectionRound(zones: InspectableZone[], week: string, seed: string, villagesPerDistrict = 3): InspectionRound {
  if (!isIsoWeek(week)) throw new RangeError(`week ${week} is not an ISO week like 2026-W47`);
  const byId = new Map(zones.map((z) => [z.id, z]));
  const districtOf = (zone: InspectableZone): string | undefined => {
    const seen = new Set<string>();
    for (
      let current: InspectableZone | undefined = zone;
      current && !seen.has(current.id);
      current = current.parentId ? byId.get(current.parentId) : undefined
    ) {
      if (current.type === 'district') return current.id;
      seen.add(current.id);
    }
    return undefined;
  };
  const sorted = [...zones].sort((a, b) => a.id.localeCompare(b.id));
  const weekNumber = Number(week.slice(0, 4)) * 53 + Number(week.slice(6));
  const districts = sorted
    .filter((z) => z.type === 'district')
    .map((district) => {
      const random = seededRandom(hash(`${seed}\n${week}\n${district.id}`));
      const inDistrict = sorted.filter((z) => districtOf(z) === district.id);
      const central = inDistrict.filter((z) => z.mustCheck);
      const villages = inDistrict.filter((z) => z.type === 'village').map((z) => z.id);
      return {
        districtId: district.id,
        mustCheck: central.length ? central[weekNumber % central.length]!.id : null,
        villages: draw(villages, villagesPerDistrict, random),
      };
    });
  return { week, seed, districts };
}
