import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PositionRecord } from '@civicloop/model';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { tenantKeys } from '../redis/keys.js';
import { PositionWriter } from './position-writer.js';
import { decodeStoredPosition } from './stored-position.js';

let redis: TestRedis;
let writer: PositionWriter;
beforeAll(async () => {
  redis = await startTestRedis();
  writer = new PositionWriter(redis.client, { trackMaxLen: 100, seenKeep: 100, maxBatch: 512 });
});
afterAll(() => redis.stop());

const base = Date.UTC(2026, 10, 22, 8, 0, 0);
function fix(deviceId: string, minute: number, options: { valid?: boolean; lat?: number } = {}): PositionRecord {
  const fixTime = base + minute * 60_000;
  return {
    deviceId,
    kind: 'vehicle',
    fixTime,
    deviceTime: fixTime,
    serverTime: fixTime,
    valid: options.valid ?? true,
    lat: options.lat ?? 23.1 + minute / 1000,
    lon: 113.3,
    alarms: [],
    source: 'native',
    key: `${deviceId}:${fixTime}`,
  };
}

describe('PositionWriter', () => {
  it('answers each caller for its own records when devices interleave in one batch', async () => {
    const keys = tenantKeys('t1');
    // Three callers in one turn of the event loop: one script, records grouped by device there.
    const [first, other, second] = await Promise.all([
      writer.write('t1', [fix('a', 1), fix('a', 3), fix('a', 4, { valid: false })]),
      writer.write('t1', [fix('b', 1)]),
      writer.write('t1', [fix('a', 1), fix('a', 2)]),
    ]);
    expect(first).toEqual([true, true, true]);
    expect(other).toEqual([true]);
    // The same fix twice in one batch is stored once.
    expect(second).toEqual([false, true]);

    expect(await redis.client.xlen(keys.track('a'))).toBe(4);
    expect(await redis.client.xlen(keys.track('b'))).toBe(1);
    // The live position is the newest valid fix, not the newer invalid one nor the last to arrive.
    const state = await redis.client.hgetall(keys.deviceState('a'));
    expect(Number(state.fixTime)).toBe(base + 3 * 60_000);
    expect(decodeStoredPosition(state.position!).lat).toBeCloseTo(23.103, 6);
    const [[lon, lat]] = (await redis.client.geopos(keys.live('vehicle'), 'a')) as [[string, string]];
    expect(Number(lat)).toBeCloseTo(23.103, 4);
    expect(Number(lon)).toBeCloseTo(113.3, 4);
    expect(await redis.client.zscore(keys.lastSeen, 'b')).not.toBeNull();
    // One live-map entry per device and batch.
    expect(await redis.client.xlen(keys.positions)).toBe(2);
  });

  it('keeps the newer stored position when a later batch brings only older fixes', async () => {
    const keys = tenantKeys('t1');
    expect(await writer.write('t1', [fix('a', 2), fix('a', 0)])).toEqual([false, true]);
    expect(Number(await redis.client.hget(keys.deviceState('a'), 'fixTime'))).toBe(base + 3 * 60_000);
    expect(await redis.client.xlen(keys.track('a'))).toBe(5);
    expect(await redis.client.xlen(keys.positions)).toBe(2);
  });
});
