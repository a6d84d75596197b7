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

/**
 * The nearest badge wearer who is checked in, enabled and has the skills, by GEOSEARCH on the
 * tenant's live badge positions. Candidates are examined nearest first in growing pages, so the
 * usual case reads a handful of records however many workers the tenant has.
 */
export async function findNearestWorker(redis: Client, tenantId: string, query: NearestQuery): Promise<WorkerCandidate | undefined> {
  const keys = tenantKeys(tenantId);
  let seen = 0;
  for (let count = 16; ; count *= 8) {
    const found = (await redis.call('GEOSEARCH', keys.live('badge'), 'FROMLONLAT', query.lon, query.lat, 'BYRADIUS', query.radiusMeters, 'm', 'ASC', 'COUNT', count, 'WITHDIST')) as [string, string][];
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
