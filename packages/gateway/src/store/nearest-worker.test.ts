import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { findNearestWorker, findNearestWorkers } from './nearest-worker.js';

const SITE = { lat: 23.1291, lon: 113.2644 };
const north = (meters: number) => ({ lat: SITE.lat + meters / 111_320, lon: SITE.lon });
const TENANT = 't_nearest';
const keys = tenantKeys(TENANT);

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => redis?.stop());

interface Badge {
  id: string;
  meters: number;
  skills?: string[];
  unitId?: string;
  staffId?: string | null;
  disabled?: boolean;
  onDuty?: boolean;
}

async function place(badges: Badge[]): Promise<void> {
  await redis.client.flushall();
  const now = new Date().toISOString();
  const pipeline = redis.client.pipeline();
  for (const b of badges) {
    const staffId = b.staffId === undefined ? `s-${b.id}` : b.staffId;
    const device = {
      id: b.id,
      kind: 'badge',
      name: b.id,
      ...(staffId ? { staffId } : {}),
      unitId: b.unitId ?? 'sanitation',
      skills: b.skills ?? ['cleaning'],
      disabled: b.disabled ?? false,
      credentialIssuedAt: now,
      createdAt: now,
      updatedAt: now,
    };
    pipeline.hset(keys.devices, b.id, JSON.stringify(device));
    if (b.onDuty !== false) pipeline.hset(keys.onDuty, b.id, String(Date.now()));
    const at = north(b.meters);
    pipeline.geoadd(keys.live('badge'), at.lon, at.lat, b.id);
  }
  await pipeline.exec();
}

const nearest = (query: { radiusMeters?: number; skills?: string[]; unitId?: string } = {}) =>
  findNearestWorker(redis.client, TENANT, {
    ...SITE,
    radiusMeters: query.radiusMeters ?? 3000,
    skills: query.skills ?? ['cleaning'],
    ...(query.unitId ? { unitId: query.unitId } : {}),
  });

describe('findNearestWorker', () => {
  it('skips the off-duty, the disabled, badges nobody wears, other units and missing skills', async () => {
    await place([
      { id: 'off-duty', meters: 10, onDuty: false },
      { id: 'disabled', meters: 20, disabled: true },
      { id: 'unworn', meters: 30, staffId: null },
      { id: 'roads', meters: 40, unitId: 'municipal' },
      { id: 'one-skill', meters: 50, skills: ['cleaning'] },
      { id: 'both-skills', meters: 60, skills: ['cleaning', 'lifting'] },
    ]);
    expect((await nearest())?.device.id).toBe('roads');
    expect((await nearest({ unitId: 'sanitation' }))?.device.id).toBe('one-skill');
    const both = await nearest({ unitId: 'sanitation', skills: ['cleaning', 'lifting'] });
    expect(both).toMatchObject({ staffId: 's-both-skills', device: { id: 'both-skills' } });
    expect(both!.distanceMeters).toBeGreaterThan(59);
    expect(both!.distanceMeters).toBeLessThan(61);
  });

  it('pages past many unsuitable candidates, widens the rings, and stops at the radius', async () => {
    // 40 unsuitable wearers close by (more than one page), the suitable one 2 km away.
    await place([...Array.from({ length: 40 }, (_, i) => ({ id: `busy-${i}`, meters: 5 + i, skills: ['road'] })), { id: 'far', meters: 2000 }]);
    expect(await nearest({ radiusMeters: 3000 })).toMatchObject({ device: { id: 'far' } });
    expect(await nearest({ radiusMeters: 1500 })).toBeUndefined();
    // Within the first page and ring, the nearest suitable one wins.
    await place([
      { id: 'b', meters: 200 },
      { id: 'a', meters: 100 },
    ]);
    expect((await nearest())?.device.id).toBe('a');
  });

  it('suggests up to a number of suitable wearers nearest first, widening the rings until it has them or reaches the radius', async () => {
    await place([
      { id: 'near', meters: 50 },
      { id: 'unsuitable', meters: 60, skills: ['road'] },
      { id: 'middle', meters: 300 },
      { id: 'far', meters: 2500 },
      { id: 'beyond', meters: 4000 },
    ]);
    const three = await findNearestWorkers(redis.client, TENANT, { ...SITE, radiusMeters: 3000, skills: ['cleaning'] }, 3);
    expect(three.map((c) => c.device.id)).toEqual(['near', 'middle', 'far']);
    expect(three.map((c) => Math.round(c.distanceMeters / 10) * 10)).toEqual([50, 300, 2500]);
    // Fewer than asked within the radius: what there is.
    const all = await findNearestWorkers(redis.client, TENANT, { ...SITE, radiusMeters: 3000, skills: ['cleaning'] }, 10);
    expect(all.map((c) => c.device.id)).toEqual(['near', 'middle', 'far']);
    expect(await findNearestWorkers(redis.client, TENANT, { ...SITE, radiusMeters: 3000, skills: ['lifting'] }, 5)).toEqual([]);
  });
});
