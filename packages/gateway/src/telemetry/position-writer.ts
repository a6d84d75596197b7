import type { Redis, Cluster, ClientContext, Result } from 'ioredis';
import type { PositionRecord } from '@civicloop/model';
import { isScriptFault } from '../redis/errors.js';
import { tenantKeys } from '../redis/keys.js';
import { defineScript } from '../redis/define-script.js';
import { waitForReplicas, type ReplicaWait } from '../redis/wait-replicas.js';

type Client = Redis | Cluster;

/**
 * Stores a tenant's batch of positions in one script, device by device. Per record: skip it if
 * this fix time was already stored for the device (QoS 1 and batch uploads redeliver); else
 * append it to the device's capped track. Then, if the device's newest valid fix of the batch is
 * newer than the stored one, move it on the live map, in its last state and onto the tenant's
 * position stream (what the live map's SSE reads); mark it seen. Returns 1 (stored) or
 * 0 (duplicate) per record, device by device in the order given.
 *
 * KEYS: lastSeen, positions, then per device: seen, track, state, live.
 * ARGV: trackMaxLen, seenKeep, now, then per device: deviceId, record count, position of its
 *       newest valid record among them (1-based, 0 = none), that record's lon, lat, then per
 *       record: fixTime, json.
 */
const LUA = `
local trackMax, seenKeep, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
local a = 4
for k = 3, #KEYS, 4 do
  local seen, track, state, live = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local id, count, newest, lon, lat = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4]
  a = a + 5
  for r = 0, count - 1 do
    local fix, json = ARGV[a + r * 2], ARGV[a + r * 2 + 1]
    if redis.call('ZADD', seen, 'NX', fix, fix) == 0 then
      out[#out + 1] = 0
    else
      -- Trim now and then, not on every write: the set only has to remember recent fixes.
      if tonumber(fix) % 64 == 0 then redis.call('ZREMRANGEBYRANK', seen, 0, -seenKeep - 1) end
      redis.call('XADD', track, 'MAXLEN', '~', trackMax, '*', 'p', json)
      out[#out + 1] = 1
    end
  end
  local fix = newest > 0 and ARGV[a + (newest - 1) * 2] or nil
  if fix and tonumber(fix) > tonumber(redis.call('HGET', state, 'fixTime') or '0') then
    local json = ARGV[a + (newest - 1) * 2 + 1]
    redis.call('GEOADD', live, lon, lat, id)
    redis.call('HSET', state, 'fixTime', fix, 'position', json, 'lastSeen', now, 'online', '1')
    -- The live map wants where each device is now, not every fix of the batch.
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'p', json)
  else
    redis.call('HSET', state, 'lastSeen', now, 'online', '1')
  end
  redis.call('ZADD', KEYS[1], now, id)
  a = a + count * 2
end
return out
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopPositions(numKeys: number, ...args: string[]): Result<number[], Context>;
  }
}

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
    defineScript(redis, 'civicloopPositions', LUA);
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
        if (!device) devices.set(r.deviceId, (device = { records: [], slots: [], newest: -1 }));
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
      for (const r of records) args.push(String(r.fixTime), JSON.stringify(r));
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
