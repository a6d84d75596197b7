import type { Redis, Cluster } from 'ioredis';
import type { Device } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';

type Client = Redis | Cluster;

export interface WorkerCandidate {
  device: Device;
  staffId: string;
  distanceMeters: number;
}

export interface NearestQuery {
  lat: number;
  lon: number;
  radiusMeters: number;
  /** Every one of these must be among the wearer's skills. */
  skills: readonly string[];
  unitId?: string;
}

/** First search radius; each further ring is four times wider, up to the query's radius. */
const FIRST_RING_METERS = 250;

/**
 * The nearest badge wearer who is checked in, enabled and has the skills, by GEOSEARCH on the
 * tenant's live badge positions. GEOSEARCH examines every member inside its radius, so the
 * search starts with a small circle and widens it only when that holds nobody suitable: in a
 * dense district the first ring answers, whatever the tenant's size. Within a ring, candidates
 * are read nearest first in growing pages.
 */
export async function findNearestWorker(redis: Client, tenantId: string, query: NearestQuery): Promise<WorkerCandidate | undefined> {
  for (let radius = Math.min(FIRST_RING_METERS, query.radiusMeters); ; radius = Math.min(radius * 4, query.radiusMeters)) {
    const found = await searchRing(redis, tenantId, query, radius);
    if (found || radius >= query.radiusMeters) return found;
  }
}

async function searchRing(redis: Client, tenantId: string, query: NearestQuery, radiusMeters: number): Promise<WorkerCandidate | undefined> {
  const keys = tenantKeys(tenantId);
  let seen = 0;
  for (let count = 16; ; count *= 8) {
    const found = (await redis.call('GEOSEARCH', keys.live('badge'), 'FROMLONLAT', query.lon, query.lat, 'BYRADIUS', radiusMeters, 'm', 'ASC', 'COUNT', count, 'WITHDIST')) as [string, string][];
    const fresh = found.slice(seen);
    if (fresh.length > 0) {
      const ids = fresh.map(([id]) => id);
      const [onDuty, records] = await Promise.all([redis.hmget(keys.onDuty, ...ids), redis.hmget(keys.devices, ...ids)]);
      for (let i = 0; i < fresh.length; i++) {
        if (onDuty[i] === null || !records[i]) continue;
        const device = JSON.parse(records[i]!) as Device;
        if (device.disabled || !device.staffId) continue;
        if (query.unitId && device.unitId !== query.unitId) continue;
        if (!query.skills.every((skill) => device.skills.includes(skill))) continue;
        return { device, staffId: device.staffId, distanceMeters: Number(fresh[i]![1]) };
      }
    }
    if (found.length < count) return undefined;
    seen = found.length;
  }
}
