import type { Cluster, Redis } from 'ioredis';
import type { PositionRecord, PositionSource } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';
import type { DriverOnBoard, Shift } from './fleet-reads.js';
import { decodeStoredPosition } from './stored-position.js';

/** A device's alarms in its newest report (device-alerts.ts compares the next report with them). */
export interface ActiveAlarms {
  /** Fix time of the newest record they were read from. */
  at: number;
  alarms: string[];
}

/** Device alerts kept for clients that open after them (GET /v1/fleet/alerts): the console reads 20, an API client up to this many. */
export const RECENT_ALERTS_KEPT = 100;

/** Questions kept per JT/T 808 terminal for its driver's answers: a terminal shows a few at a time, and a driver answers within a shift. */
const MAX_QUESTIONS_KEPT = 64;

/**
 * What telemetry writes about a device beside its positions: attendance (who is checked in, the
 * finished shifts), its active alarms and the alerts raised once, and whether it is online. The
 * positions themselves are the position writer's (position-writer.ts, one script per batch);
 * reads for the live map and attendance are in fleet-reads.ts.
 */
export class DeviceStateStore {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  async checkIn(tenantId: string, deviceId: string, at: number): Promise<void> {
    await this.redis.hset(tenantKeys(tenantId).onDuty, deviceId, String(at));
  }

  /** When the device checked in (epoch ms), if it is checked in. */
  async onDutySince(tenantId: string, deviceId: string): Promise<number | undefined> {
    const start = await this.redis.hget(tenantKeys(tenantId).onDuty, deviceId);
    return start === null ? undefined : Number(start);
  }

  /** Whether the JT/T 808 terminal answered a question (0x8302) "not supported": it is sent text instead. */
  async refusesQuestions(tenantId: string, deviceId: string): Promise<boolean> {
    return (await this.redis.hget(tenantKeys(tenantId).deviceState(deviceId), 'questions')) === 'refused';
  }

  async noteRefusesQuestions(tenantId: string, deviceId: string): Promise<void> {
    await this.redis.hset(tenantKeys(tenantId).deviceState(deviceId), 'questions', 'refused');
  }

  /**
   * How many of an OwnTracks phone's job slots (telemetry/owntracks-jobs.ts) it has ever been sent:
   * one field per slot (`owntracksSlot:<i>`), so that two gateways noting at once only ever add.
   */
  async ownTracksSlotsSent(tenantId: string, deviceId: string, maxSlots: number): Promise<number> {
    const fields = Array.from({ length: maxSlots }, (_, i) => `owntracksSlot:${i}`);
    const marks = await this.redis.hmget(tenantKeys(tenantId).deviceState(deviceId), ...fields);
    return marks.reduce((count, mark, i) => (mark ? i + 1 : count), 0);
  }

  async noteOwnTracksSlotsSent(tenantId: string, deviceId: string, slots: number): Promise<void> {
    const marks = Array.from({ length: slots }, (_, i) => [`owntracksSlot:${i}`, '1']).flat();
    await this.redis.hset(tenantKeys(tenantId).deviceState(deviceId), ...marks);
  }

  /** Records a question (0x8302) asked of a JT/T 808 terminal under its serial, keeping the newest MAX_QUESTIONS_KEPT. */
  async rememberQuestion(tenantId: string, deviceId: string, serial: number, ticketId: string): Promise<void> {
    const key = tenantKeys(tenantId).jt808Questions(deviceId);
    await this.redis
      .multi()
      .lpush(key, `${serial} ${ticketId}`)
      .ltrim(key, 0, MAX_QUESTIONS_KEPT - 1)
      .exec();
  }

  /** The serial the last question was asked of a JT/T 808 terminal under, if it was asked any. */
  async lastQuestionSerial(tenantId: string, deviceId: string): Promise<number | undefined> {
    const newest = await this.redis.lindex(tenantKeys(tenantId).jt808Questions(deviceId), 0);
    return newest === null ? undefined : Number(newest.split(' ')[0]);
  }

  /** The questions last asked of a JT/T 808 terminal, newest first: a serial asked twice (after 65,536 messages) means its newest. */
  async askedQuestions(tenantId: string, deviceId: string): Promise<{ serial: number; ticketId: string }[]> {
    const entries = await this.redis.lrange(tenantKeys(tenantId).jt808Questions(deviceId), 0, MAX_QUESTIONS_KEPT - 1);
    return entries.map((entry) => {
      const [serial, ticketId] = entry.split(' ');
      return { serial: Number(serial), ticketId: ticketId! };
    });
  }

  /**
   * The newest IC card report applied to the vehicle: its time (epoch ms, the terminal's), and the
   * driver it left on board (none after a card taken out).
   */
  async lastDriverCard(tenantId: string, deviceId: string): Promise<{ at: number; driver: DriverOnBoard | undefined } | undefined> {
    const [at, driver] = await this.redis.hmget(tenantKeys(tenantId).deviceState(deviceId), 'driverCardAt', 'driver');
    return at === null ? undefined : { at: Number(at), driver: driver ? (JSON.parse(driver) as DriverOnBoard) : undefined };
  }

  /** Who drives the vehicle now (undefined: nobody), by the IC card report of time `at` (telemetry/driver-cards.ts). */
  async setDriver(tenantId: string, deviceId: string, driver: DriverOnBoard | undefined, at: number): Promise<void> {
    const key = tenantKeys(tenantId).deviceState(deviceId);
    const write = this.redis.multi().hset(key, 'driverCardAt', String(at));
    await (driver ? write.hset(key, 'driver', JSON.stringify(driver)) : write.hdel(key, 'driver')).exec();
  }

  /** Records the shift on its day and checks the device out, together: a shift is never kept twice or lost between the two. */
  async finishShift(tenantId: string, day: string, shift: Shift): Promise<void> {
    const keys = tenantKeys(tenantId);
    await this.redis.multi().rpush(keys.shifts(day), JSON.stringify(shift)).hdel(keys.onDuty, shift.deviceId).exec();
  }

  async activeAlarms(tenantId: string, deviceId: string): Promise<ActiveAlarms | undefined> {
    const raw = await this.redis.hget(tenantKeys(tenantId).deviceState(deviceId), 'alarms');
    return raw ? (JSON.parse(raw) as ActiveAlarms) : undefined;
  }

  async setActiveAlarms(tenantId: string, deviceId: string, alarms: ActiveAlarms): Promise<void> {
    await this.redis.hset(tenantKeys(tenantId).deviceState(deviceId), 'alarms', JSON.stringify(alarms));
  }

  /** Whether the device counts as online, when it was last heard from, and its newest stored position. */
  async presence(tenantId: string, deviceId: string): Promise<{ online: boolean; lastSeen: number | undefined; position: PositionRecord | undefined }> {
    const [online, lastSeen, position] = await this.redis.hmget(tenantKeys(tenantId).deviceState(deviceId), 'online', 'lastSeen', 'position');
    return { online: online === '1', lastSeen: lastSeen ? Number(lastSeen) : undefined, position: position ? decodeStoredPosition(position) : undefined };
  }

  /** Where the device's newest stored position came from (native, owntracks, jt808...), if it ever reported one. */
  async newestSource(tenantId: string, deviceId: string): Promise<PositionSource | undefined> {
    return (await this.lastPosition(tenantId, deviceId))?.source;
  }

  /** The device's newest stored position, if it ever reported one. */
  async lastPosition(tenantId: string, deviceId: string): Promise<PositionRecord | undefined> {
    const raw = await this.redis.hget(tenantKeys(tenantId).deviceState(deviceId), 'position');
    return raw ? decodeStoredPosition(raw) : undefined;
  }

  /**
   * What a device said about itself: online (a heartbeat, which also keeps the offline sweep away
   * while it keeps saying so) or offline.
   */
  async noteStatus(tenantId: string, deviceId: string, online: boolean, at: number): Promise<void> {
    const keys = tenantKeys(tenantId);
    const write = this.redis.multi().hset(keys.deviceState(deviceId), 'online', online ? '1' : '0', 'lastSeen', String(at));
    if (online) write.zadd(keys.lastSeen, at, deviceId);
    await write.exec();
  }

  /** Counts a message of the device's that was refused or ignored, with the latest reason and when (GET /v1/devices/{id}/state). */
  async noteUnused(tenantId: string, deviceId: string, kind: 'refused' | 'ignored', reason: string, at: number): Promise<void> {
    const key = tenantKeys(tenantId).deviceState(deviceId);
    const [count, last, lastAt] = kind === 'refused' ? ['refused', 'lastRefusedReason', 'lastRefusedAt'] : ['ignored', 'lastIgnoredReason', 'lastIgnoredAt'];
    await this.redis.multi().hincrby(key, count, 1).hset(key, last, reason, lastAt, String(at)).exec();
  }

  async markOffline(tenantId: string, deviceId: string): Promise<void> {
    await this.redis.hset(tenantKeys(tenantId).deviceState(deviceId), 'online', '0');
  }

  /** The devices last heard from after `after` and no later than `until` (epoch ms; `after` undefined: any time before). */
  async lastHeardBetween(tenantId: string, after: number | undefined, until: number): Promise<string[]> {
    return this.redis.zrangebyscore(tenantKeys(tenantId).lastSeen, after === undefined ? '-inf' : `(${after}`, until);
  }

  async markAllOffline(tenantId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const keys = tenantKeys(tenantId);
    const pipeline = this.redis.pipeline();
    for (const id of deviceIds) pipeline.hset(keys.deviceState(id), 'online', '0');
    await pipeline.exec();
  }

  /** Whether the alert of this marker was written (within its marker's TTL). */
  async alertRaised(tenantId: string, marker: string): Promise<boolean> {
    return (await this.redis.exists(tenantKeys(tenantId).alertSeen(marker))) === 1;
  }

  /**
   * Puts an alert on the tenant's event stream once per `marker` (device, alarm, time): the marker,
   * the stream entry and the recent alerts' list are written in one script, so a redelivered
   * report neither loses nor repeats the alert. Returns whether this call wrote it.
   */
  async raiseAlertOnce(tenantId: string, marker: string, alertJson: string, options: { markerTtlSeconds: number; streamMaxLen: number }): Promise<boolean> {
    const keys = tenantKeys(tenantId);
    const wrote = await this.redis.civicloopRaiseAlert(
      3,
      keys.alertSeen(marker),
      keys.events,
      keys.recentAlerts,
      String(options.markerTtlSeconds),
      String(options.streamMaxLen),
      alertJson,
      String(RECENT_ALERTS_KEPT),
    );
    return wrote === 1;
  }
}
