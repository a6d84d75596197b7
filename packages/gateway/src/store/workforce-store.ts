import type { Cluster, Redis } from 'ioredis';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';

const DAY_MS = 86_400_000;

/**
 * The workforce statistics as stored (stats/workforce.ts decides what goes in): per day, the
 * workers present and each unit's roster and vehicle samples, in `stats:workforce:<day>`; which
 * fleet sample slots were taken; and what a sample reads about the devices.
 */
export class WorkforceStore {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  /** Counts each worker present on the day once, however many times they check in (civicloopMarkPresent). */
  async markPresent(tenantId: string, day: string, workers: [unit: string, staffId: string][]): Promise<void> {
    if (workers.length === 0) return;
    const keys = tenantKeys(tenantId);
    // The set only has to recognise a second check-in on the same day.
    await this.redis.civicloopMarkPresent(2, keys.stats.workforce(day), keys.stats.present(day), 2 * DAY_MS, ...workers.flat());
  }

  /** Claims a fleet sample slot for this gateway (SET NX): only one gateway takes each sample. Whether this call got it. */
  async claimSampleSlot(tenantId: string, slot: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(tenantKeys(tenantId).stats.sampleSlot(slot), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** The devices checked in now. */
  async onDutyDevices(tenantId: string): Promise<string[]> {
    return this.redis.hkeys(tenantKeys(tenantId).onDuty);
  }

  /** Whether each device is online now, in the order asked. */
  async online(tenantId: string, deviceIds: string[]): Promise<boolean[]> {
    const keys = tenantKeys(tenantId);
    const flags = await Promise.all(deviceIds.map((id) => this.redis.hget(keys.deviceState(id), 'online')));
    return flags.map((flag) => flag === '1');
  }

  /** Adds a sample to the day: each unit's roster (the most it had that day is kept) and its vehicles sampled and online. */
  async addSample(tenantId: string, day: string, roster: Map<string, number>, fleet: Map<string, [samples: number, online: number]>): Promise<void> {
    await this.redis.civicloopWorkforceSample(
      1,
      tenantKeys(tenantId).stats.workforce(day),
      roster.size,
      ...[...roster].flat(),
      ...[...fleet].flatMap(([unit, [samples, up]]) => [unit, samples, up]),
    );
  }
}
