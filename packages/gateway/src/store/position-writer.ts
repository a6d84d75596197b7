import type { Redis, Cluster } from 'ioredis';
import type { PositionRecord } from '@civicloop/model';
import { isScriptFault } from '../redis/errors.js';
import { tenantKeys } from '../redis/keys.js';
import { registerScripts } from '../redis/scripts/index.js';
import { waitForReplicas, type ReplicaWait } from '../redis/wait-replicas.js';
import { encodeStoredPosition } from './stored-position.js';

type Client = Redis | Cluster;

/** The store refused these records themselves (a script error on them alone): resending cannot help. */
export class UnstorableRecordError extends Error {
  override readonly name = 'UnstorableRecordError';
}

export interface PositionWriterOptions {
  trackMaxLen: number;
  /** How many recent fix times per device are remembered for de-duplication. */
  seenKeep: number;
  /** Records that make a batch write at once rather than at the end of this event-loop turn. */
  maxBatch: number;
  /** REDIS_WAIT_REPLICAS: a batch counts as stored (and is acknowledged) only once replicas have it. */
  replicaWait?: ReplicaWait;
}

interface DeviceRecords {
  records: PositionRecord[];
  /** Where each record stands in the whole batch. */
  slots: number[];
  /** Index of the newest valid record, -1 if none. */
  newest: number;
}

interface Pending {
  tenantId: string;
  records: PositionRecord[];
  resolve: (stored: boolean[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects positions from all connections and writes them in batches, one script per tenant
 * per batch: throughput comes from batching, while each caller still learns when (and whether)
 * its own records were stored, so a QoS 1 PUBACK can wait for Redis.
 */
export class PositionWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Immediate | undefined;

  constructor(
    private readonly redis: Client,
    private readonly options: PositionWriterOptions,
  ) {
    registerScripts(redis);
  }

  /** Resolves once the records are in Redis, with true for each one stored and false for a duplicate. */
  write(tenantId: string, records: PositionRecord[]): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, records, resolve, reject });
      this.queued += records.length;
      if (this.queued >= this.options.maxBatch) this.flush();
      // Otherwise write whatever arrived in this turn of the event loop, without a delay: aedes
      // reads a client's next packets only after the current ones are acknowledged, so every
      // millisecond waited here is a millisecond each connection stands still.
      else this.timer ??= setImmediate(() => this.flush());
    });
  }

  flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    const byTenant = new Map<string, Pending[]>();
    for (const pending of batch) {
      const list = byTenant.get(pending.tenantId);
      if (list) list.push(pending);
      else byTenant.set(pending.tenantId, [pending]);
    }
    for (const [tenantId, pendings] of byTenant) void this.writeTenant(tenantId, pendings);
  }

  private async writeTenant(tenantId: string, pendings: Pending[]): Promise<void> {
    const keys = tenantKeys(tenantId);
    // The batch's records by device; `slots` says where each record's answer goes in the batch.
    const devices = new Map<string, DeviceRecords>();
    let slot = 0;
    for (const { records } of pendings) {
      for (const r of records) {
        let device = devices.get(r.deviceId);
        if (!device) {
          device = { records: [], slots: [], newest: -1 };
          devices.set(r.deviceId, device);
        }
        if (r.valid && (device.newest < 0 || r.fixTime > device.records[device.newest]!.fixTime)) device.newest = device.records.length;
        device.records.push(r);
        device.slots.push(slot++);
      }
    }
    const scriptKeys = [keys.lastSeen, keys.positions];
    const args = [String(this.options.trackMaxLen), String(this.options.seenKeep), String(Date.now())];
    for (const [deviceId, { records, newest }] of devices) {
      const latest = newest >= 0 ? records[newest] : undefined;
      scriptKeys.push(keys.seenFixes(deviceId), keys.track(deviceId), keys.deviceState(deviceId), keys.live(records[0]!.kind));
      args.push(deviceId, String(records.length), String(newest + 1), latest ? String(latest.lon) : '', latest ? String(latest.lat) : '');
      for (const r of records) args.push(`${r.fixTime}`, encodeStoredPosition(r));
    }
    try {
      const reply = await this.redis.civicloopPositions(scriptKeys.length, ...scriptKeys, ...args);
      await waitForReplicas(this.redis, keys.lastSeen, this.options.replicaWait);
      const stored = new Array<boolean>(slot);
      let at = 0;
      for (const { slots } of devices.values()) for (const place of slots) stored[place] = reply[at++] === 1;
      at = 0;
      for (const pending of pendings) pending.resolve(pending.records.map(() => stored[at++]!));
    } catch (error) {
      if (!isScriptFault(error)) {
        for (const pending of pendings) pending.reject(error);
        return;
      }
      // One caller's records broke the script for the whole batch: write each caller's alone, so
      // the others are stored and only the culprit is told its records cannot be stored.
      if (pendings.length > 1) {
        await Promise.all(pendings.map((pending) => this.writeTenant(tenantId, [pending])));
        return;
      }
      pendings[0]!.reject(new UnstorableRecordError(`the store refused these positions: ${(error as Error).message}`));
    }
  }
}
