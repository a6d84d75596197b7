import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { commit } from './commit-script.js';
import { registerScripts } from './scripts/index.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
  registerScripts(redis.client);
});
afterAll(async () => redis?.stop());

// Values with spaces, quotes and newlines: the op list is one space-separated string, the values must never be split.
const awkward = 'a member with spaces\nand "quotes"';

describe('the commit script', () => {
  it('applies every op of a plan, with values that hold spaces and repeat', async () => {
    const c = redis.client;
    await c.zadd('t:old', 5, awkward);
    const result = await commit(c, {
      idem: { key: 't:idem', val: '{"fp":"x"}', ttlMs: 60_000 },
      checks: [{ key: 't:doc', version: null }],
      docs: [{ key: 't:doc', doc: '{"id": "one two"}', version: 1, rev: 'p1.a' }],
      pushes: [{ key: 't:history', val: '{"event": "a b"}' }],
      zrem: [{ key: 't:old', member: awkward }],
      zadd: [
        { key: 't:new', member: awkward, score: 1_796_329_871_063 },
        { key: 't:geo', member: 'plain', score: 3_471_243_123_456_789 },
      ],
      xadd: [{ key: 't:stream', maxLen: 1000, fields: ['e', '{"event": "a b"}', 'n', 'T-20261203-0001', 'p', '[]'] }],
    });
    expect(result).toEqual({ kind: 'ok' });
    expect(await c.hgetall('t:doc')).toEqual({ doc: '{"id": "one two"}', v: '1', r: 'p1.a' });
    expect(await c.lrange('t:history', 0, -1)).toEqual(['{"event": "a b"}']);
    expect(await c.zrange('t:old', 0, -1)).toEqual([]);
    expect(await c.zrange('t:new', 0, -1, 'WITHSCORES')).toEqual([awkward, '1796329871063']);
    expect(await c.zscore('t:geo', 'plain')).toBe('3471243123456789');
    const entries = await c.xrange('t:stream', '-', '+');
    expect(entries).toHaveLength(1);
    expect(entries[0]![1]).toEqual(['e', '{"event": "a b"}', 'n', 'T-20261203-0001', 'p', '[]']);
    expect(await c.get('t:idem')).toBe('{"fp":"x"}');
    expect(await c.pttl('t:idem')).toBeGreaterThan(50_000);
  });

  it('replays a used idempotency key and writes nothing', async () => {
    const before = await redis.client.hgetall('t:doc');
    const result = await commit(redis.client, {
      idem: { key: 't:idem', val: '{"fp":"y"}', ttlMs: 60_000 },
      docs: [{ key: 't:doc', doc: '{"id":"changed"}', version: 2, rev: 'p1.b' }],
    });
    expect(result).toEqual({ kind: 'replay', value: '{"fp":"x"}' });
    expect(await redis.client.hgetall('t:doc')).toEqual(before);
  });

  it('refuses the whole plan when a version check fails, naming the key and the version found', async () => {
    const stale = await commit(redis.client, {
      checks: [{ key: 't:doc', version: 7 }],
      docs: [{ key: 't:doc', doc: '{"id":"changed"}', version: 8, rev: 'p1.c' }],
      pushes: [{ key: 't:history', val: 'never' }],
    });
    expect(stale).toEqual({ kind: 'conflict', key: 't:doc', version: '1' });
    // "Must not exist yet" against a hash that exists.
    expect(await commit(redis.client, { checks: [{ key: 't:doc', version: null }], pushes: [{ key: 't:history', val: 'never' }] })).toEqual({
      kind: 'conflict',
      key: 't:doc',
      version: '1',
    });
    // A version expected of a hash that does not exist.
    expect(await commit(redis.client, { checks: [{ key: 't:none', version: 1 }] })).toEqual({ kind: 'conflict', key: 't:none', version: '' });
    expect(await redis.client.hget('t:doc', 'doc')).toBe('{"id": "one two"}');
    expect(await redis.client.lrange('t:history', 0, -1)).toEqual(['{"event": "a b"}']);
  });

  it('sends a long value that repeats once, and two long values of the same length apart', async () => {
    const c = redis.client;
    // Longer than the length at which values stop being looked up by hash; the same length, not the same text.
    const event = JSON.stringify({ event: 'x'.repeat(300) });
    const doc = JSON.stringify({ event: 'y'.repeat(300) });
    expect(doc.length).toBe(event.length);
    const sent: unknown[][] = [];
    const spy = {
      civicloopCommit: (...args: unknown[]) => {
        sent.push(args);
        return c.civicloopCommit(...(args as Parameters<typeof c.civicloopCommit>));
      },
    } as unknown as typeof c;
    const result = await commit(spy, {
      docs: [{ key: 't:long-doc', doc, version: 1, rev: 'p2.a' }],
      pushes: [{ key: 't:long-history', val: event }],
      // The same text again, built anew: found by comparison, not only by being the same object.
      xadd: [{ key: 't:long-stream', maxLen: 1000, fields: ['e', JSON.stringify({ event: 'x'.repeat(300) }), 'd', doc] }],
    });
    expect(result).toEqual({ kind: 'ok' });
    const args = sent[0]!;
    expect(args.filter((arg) => arg === event)).toHaveLength(1);
    expect(args.filter((arg) => arg === doc)).toHaveLength(1);
    expect(await c.hget('t:long-doc', 'doc')).toBe(doc);
    expect(await c.lrange('t:long-history', 0, -1)).toEqual([event]);
    const entries = await c.xrange('t:long-stream', '-', '+');
    expect(entries[0]![1]).toEqual(['e', event, 'd', doc]);
  });
});
