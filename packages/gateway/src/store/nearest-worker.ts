import type { Cluster, Redis } from 'ioredis';
import type { Device } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';

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
const FIRST_RING_METERS = 100;

const defined = new WeakSet<Client>();

/** The nearest badge wearer who is checked in, enabled and has the skills (and is of the unit, when given). */
export async function findNearestWorker(redis: Client, tenantId: string, query: NearestQuery): Promise<WorkerCandidate | undefined> {
  return (await findNearestWorkers(redis, tenantId, query, 1))[0];
}

/** Up to `limit` such wearers, nearest first: the suggestions a dispatcher chooses from. */
export async function findNearestWorkers(redis: Client, tenantId: string, query: NearestQuery, limit: number): Promise<WorkerCandidate[]> {
  if (!defined.has(redis)) {
    registerScripts(redis);
    defined.add(redis);
  }
  const keys = tenantKeys(tenantId);
  const found = await redis.civicloopNearestWorkers(
    3,
    keys.live('badge'),
    keys.onDuty,
    keys.devices,
    query.lon,
    query.lat,
    query.radiusMeters,
    FIRST_RING_METERS,
    query.unitId ?? '',
    limit,
    ...query.skills,
  );
  const candidates: WorkerCandidate[] = [];
  for (let i = 0; i + 1 < found.length; i += 2) {
    const device = JSON.parse(found[i]!) as Device;
    candidates.push({ device, staffId: device.staffId!, distanceMeters: Number(found[i + 1]) });
  }
  return candidates;
}
