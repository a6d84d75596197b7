import type { Cluster, Redis } from 'ioredis';
import type { Device, DeviceAlert, PositionRecord } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { readPipeline } from '../redis/read-pipeline.js';
import { decodeStoredPosition } from './stored-position.js';

/** A finished shift: a badge's check-in to its check-out, as the badge events write it. */
export interface Shift {
  deviceId: string;
  staffId?: string;
  unitId?: string;
  start: number;
  end: number;
}

/** How many messages of a kind, and the latest one's reason and time (epoch ms). */
export interface Tally {
  count: number;
  lastReason: string;
  lastAt: number | null;
}

/** A device's newest stored fix on the live map. */
export interface LivePosition {
  record: PositionRecord;
  device: Device | undefined;
  online: boolean;
}

/** The driver whose IC card is in a vehicle's terminal (JT/T 808 0x0702), as its state keeps it. */
export interface DriverOnBoard {
  /** The staff member with the card's qualification certificate number, if there is one. */
  staffId: string | null;
  /** As the card gives them. */
  name: string;
  qualificationCode: string;
  /** When the card went in, epoch ms (the terminal's time). */
  since: number;
}

/** A device's last state as telemetry keeps it (times in epoch ms). */
export interface DeviceState {
  online: boolean;
  lastSeen: number | null;
  onDutySince: number | null;
  position: PositionRecord | null;
  /** Messages acknowledged and refused (bad values, topics the device may not use). */
  refused: Tally | null;
  /** Well-formed messages acknowledged and set aside as unused. */
  ignored: Tally | null;
  /** A vehicle's driver, by the IC card in its terminal. */
  driver: DriverOnBoard | null;
}

const STATE_FIELDS = [
  'position',
  'online',
  'lastSeen',
  'refused',
  'lastRefusedReason',
  'lastRefusedAt',
  'ignored',
  'lastIgnoredReason',
  'lastIgnoredAt',
  'driver',
] as const;

const tally = (count: string | null, reason: string | null, at: string | null): Tally | null =>
  count ? { count: Number(count), lastReason: reason ?? '', lastAt: at ? Number(at) : null } : null;

/** What telemetry has written about the fleet, read back for the map, a device's page and attendance. */
export class FleetReads {
  constructor(private readonly redis: Redis | Cluster) {}

  /** The newest device alerts, newest first, each with its event stream id (DeviceStateStore.raiseAlertOnce keeps them). */
  async recentAlerts(tenantId: string, limit: number): Promise<{ streamId: string; alert: DeviceAlert }[]> {
    const entries = await this.redis.lrange(tenantKeys(tenantId).recentAlerts, 0, limit - 1);
    return entries.map((entry) => JSON.parse(entry) as { streamId: string; alert: DeviceAlert });
  }

  /** The tenant's stream of stored positions, newest last: what the live map's event stream tails. */
  positionStream(tenantId: string): string {
    return tenantKeys(tenantId).positions;
  }

  /** The newest fix of every device of these kinds that has one. */
  async live(tenantId: string, kinds: readonly ('vehicle' | 'badge')[]): Promise<LivePosition[]> {
    const keys = tenantKeys(tenantId);
    const out: LivePosition[] = [];
    for (const kind of kinds) {
      const ids = await this.redis.zrange(keys.live(kind), 0, -1);
      if (ids.length === 0) continue;
      const pipeline = readPipeline(this.redis);
      for (const id of ids) pipeline.hmget(keys.deviceState(id), 'position', 'online');
      const [states, records] = await Promise.all([pipeline.exec(), this.redis.hmget(keys.devices, ...ids)]);
      for (let i = 0; i < ids.length; i++) {
        const [position, online] = (states?.[i]?.[1] ?? []) as [string | null, string | null];
        if (!position) continue;
        const record = records[i];
        out.push({ record: decodeStoredPosition(position), device: record ? (JSON.parse(record) as Device) : undefined, online: online === '1' });
      }
    }
    return out;
  }

  async state(tenantId: string, deviceId: string): Promise<DeviceState> {
    const keys = tenantKeys(tenantId);
    const [values, onDuty] = await Promise.all([this.redis.hmget(keys.deviceState(deviceId), ...STATE_FIELDS), this.redis.hget(keys.onDuty, deviceId)]);
    const state = Object.fromEntries(STATE_FIELDS.map((f, i) => [f, values[i] ?? null])) as Record<(typeof STATE_FIELDS)[number], string | null>;
    return {
      online: state.online === '1',
      lastSeen: state.lastSeen ? Number(state.lastSeen) : null,
      onDutySince: onDuty ? Number(onDuty) : null,
      position: state.position ? decodeStoredPosition(state.position) : null,
      refused: tally(state.refused, state.lastRefusedReason, state.lastRefusedAt),
      ignored: tally(state.ignored, state.lastIgnoredReason, state.lastIgnoredAt),
      driver: state.driver ? (JSON.parse(state.driver) as DriverOnBoard) : null,
    };
  }

  /** The valid fixes taken from `from` to `to` (epoch ms), oldest first. */
  async track(tenantId: string, deviceId: string, from: number, to: number): Promise<PositionRecord[]> {
    // Stream ids are arrival times; fixes arrive after they are taken, so read a little past `to`.
    const entries = await this.redis.xrange(tenantKeys(tenantId).track(deviceId), String(from), String(to + 10 * 60_000));
    return entries
      .map(([, fields]) => decodeStoredPosition(fields[1]!))
      .filter((r) => r.valid && r.fixTime >= from && r.fixTime <= to)
      .sort((a, b) => a.fixTime - b.fixTime);
  }

  /** The shifts finished on a day (YYYYMMDD) and who is checked in now (device id -> since, epoch ms). */
  async shifts(tenantId: string, day: string): Promise<{ finished: Shift[]; onDuty: Map<string, number> }> {
    const keys = tenantKeys(tenantId);
    const [rows, onDuty] = await Promise.all([this.redis.lrange(keys.shifts(day), 0, -1), this.redis.hgetall(keys.onDuty)]);
    return {
      finished: rows.map((row) => JSON.parse(row) as Shift),
      onDuty: new Map(Object.entries(onDuty).map(([deviceId, since]) => [deviceId, Number(since)])),
    };
  }
}
