import type { Redis, Cluster, ClientContext, Result } from 'ioredis';
import type { PositionRecord } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';

type Client = Redis | Cluster;

/**
 * Stores a tenant's batch of positions in one script. Per record: skip it if this fix time was
 * already stored for the device (QoS 1 and batch uploads redeliver); else append it to the
 * device's capped track. Per device, once per batch: if its newest valid fix in the batch is
 * newer than the stored one, move it on the live map, in its last state and onto the tenant's
 * position stream (what the live map's SSE reads); mark it seen. Returns 1 (stored) or 0 (duplicate) per record.
 *
 * KEYS: lastSeen, positions, then per record: seen, track; then per device: state, live.
 * ARGV: trackMaxLen, seenKeep, recordCount, now, then per record: fixTime, json;
 *       then per device: deviceId, newest valid fixTime ('' if none), lon, lat, json.
 */
const LUA = `
local trackMax, seenKeep, records, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local out = {}
for r = 1, records do
  local seen, track = KEYS[1 + r * 2], KEYS[2 + r * 2]
  local fix, json = ARGV[3 + r * 2], ARGV[4 + r * 2]
  if redis.call('ZADD', seen, 'NX', fix, fix) == 0 then
    out[r] = 0
  else
    -- Trim now and then, not on every write: the set only has to remember recent fixes.
    if tonumber(fix) % 64 == 0 then redis.call('ZREMRANGEBYRANK', seen, 0, -seenKeep - 1) end
    redis.call('XADD', track, 'MAXLEN', '~', trackMax, '*', 'p', json)
    out[r] = 1
  end
end
local k = 3 + records * 2
local a = 5 + records * 2
while k <= #KEYS do
  local state, live = KEYS[k], KEYS[k + 1]
  local id, fix, lon, lat, json = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  if fix ~= '' and tonumber(fix) > tonumber(redis.call('HGET', state, 'fixTime') or '0') then
    redis.call('GEOADD', live, lon, lat, id)
    redis.call('HSET', state, 'fixTime', fix, 'position', json, 'lastSeen', now, 'online', '1')
    -- The live map wants where each device is now, not every fix of the batch.
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'p', json)
  else
    redis.call('HSET', state, 'lastSeen', now, 'online', '1')
  end
  redis.call('ZADD', KEYS[1], now, id)
  k = k + 2
  a = a + 5
end
return out
`;

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    civicloopPositions(numKeys: number, ...args: string[]): Result<number[], Context>;
  }
}

export interface PositionWriterOptions {
  trackMaxLen: number;
  /** How many recent fix times per device are remembered for de-duplication. */
  seenKeep: number;
  /** Records that make a batch write at once rather than at the end of this event-loop turn. */
  maxBatch: number;
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
    redis.defineCommand('civicloopPositions', { lua: LUA });
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
    const recordKeys: string[] = [];
    const recordArgs: string[] = [];
    // Per device: its kind, and its newest valid record of the batch with that record's JSON.
    const newest = new Map<string, { kind: string; best?: { record: PositionRecord; json: string } }>();
    let count = 0;
    for (const { records } of pendings) {
      for (const r of records) {
        const json = JSON.stringify(r);
        recordKeys.push(keys.seenFixes(r.deviceId), keys.track(r.deviceId));
        recordArgs.push(String(r.fixTime), json);
        count++;
        let device = newest.get(r.deviceId);
        if (!device) newest.set(r.deviceId, (device = { kind: r.kind }));
        if (r.valid && (!device.best || r.fixTime > device.best.record.fixTime)) device.best = { record: r, json };
      }
    }
    const deviceKeys: string[] = [];
    const deviceArgs: string[] = [];
    for (const [deviceId, { kind, best }] of newest) {
      deviceKeys.push(keys.deviceState(deviceId), keys.live(kind));
      const r = best?.record;
      deviceArgs.push(deviceId, r ? String(r.fixTime) : '', r ? String(r.lon) : '', r ? String(r.lat) : '', best?.json ?? '');
    }
    const now = String(Date.now());
    const scriptKeys = [keys.lastSeen, keys.positions, ...recordKeys, ...deviceKeys];
    const args = [String(this.options.trackMaxLen), String(this.options.seenKeep), String(count), now, ...recordArgs, ...deviceArgs];
    try {
      const stored = await this.redis.civicloopPositions(scriptKeys.length, ...scriptKeys, ...args);
      let at = 0;
      for (const pending of pendings) {
        pending.resolve(pending.records.map(() => stored[at++] === 1));
      }
    } catch (error) {
      for (const pending of pendings) pending.reject(error);
    }
  }
}
