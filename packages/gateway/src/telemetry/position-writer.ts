import type { Redis, Cluster, ClientContext, Result } from 'ioredis';
import type { PositionRecord } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';

type Client = Redis | Cluster;

/**
 * Stores a tenant's batch of positions in one script. Per record: skip it if this fix time was
 * already stored for the device (QoS 1 and batch uploads redeliver); else append it to the
 * device's capped track, and if it is the newest valid fix, move the device on the live map and
 * in its last state. Returns 1 (stored) or 0 (duplicate) per record.
 *
 * KEYS: lastSeen, positions (the tenant's live-map stream), then per record: seen, track, state, live.
 * ARGV: trackMaxLen, seenKeep, then per record: deviceId, fixTime, valid (1/0), lon, lat, json, serverTime.
 */
const LUA = `
local trackMax, seenKeep = ARGV[1], tonumber(ARGV[2])
local out = {}
local r = 0
for k = 3, #KEYS, 4 do
  local a = 3 + r * 7
  local id, fix, valid, lon, lat, json, now = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  r = r + 1
  if redis.call('ZADD', KEYS[k], 'NX', fix, fix) == 0 then
    out[r] = 0
  else
    if redis.call('ZCARD', KEYS[k]) > seenKeep then redis.call('ZREMRANGEBYRANK', KEYS[k], 0, -seenKeep - 1) end
    redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', trackMax, '*', 'p', json)
    local last = tonumber(redis.call('HGET', KEYS[k + 2], 'fixTime') or '0')
    if valid == '1' and tonumber(fix) > last then
      redis.call('GEOADD', KEYS[k + 3], lon, lat, id)
      redis.call('HSET', KEYS[k + 2], 'fixTime', fix, 'position', json, 'lastSeen', now, 'online', '1')
    else
      redis.call('HSET', KEYS[k + 2], 'lastSeen', now, 'online', '1')
    end
    redis.call('ZADD', KEYS[1], now, id)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'p', json)
    out[r] = 1
  end
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
  /** Longest a batch waits to fill before it is written. */
  maxDelayMs: number;
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
  private timer: NodeJS.Timeout | undefined;

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
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
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
    const scriptKeys = [keys.lastSeen, keys.positions];
    const args = [String(this.options.trackMaxLen), String(this.options.seenKeep)];
    for (const { records } of pendings) {
      for (const r of records) {
        scriptKeys.push(keys.seenFixes(r.deviceId), keys.track(r.deviceId), keys.deviceState(r.deviceId), keys.live(r.kind));
        args.push(r.deviceId, String(r.fixTime), r.valid ? '1' : '0', String(r.lon), String(r.lat), JSON.stringify(r), String(r.serverTime));
      }
    }
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
