import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { StreamHub } from './stream-hub.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => redis?.stop());

describe('StreamHub', () => {
  it('gives every subscriber exactly the entries after its id, in order, from one shared reader', async () => {
    const hub = new StreamHub(redis.client, 100);
    const key = 'hub-test';
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await redis.client.xadd(key, '*', 'n', String(i)))!);

    const received = new Map<number, string[]>();
    const cancels: (() => void)[] = [];
    const starts: string[] = [];
    const producer = (async () => {
      for (let i = 50; i < 300; i++) {
        ids.push((await redis.client.xadd(key, '*', 'n', String(i)))!);
        if (i % 40 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Subscribers join while entries are being added, each resuming from a different point.
    for (let s = 0; s < 6; s++) {
      const after = s === 0 ? '0-0' : ids[Math.min(ids.length - 1, s * 20)]!;
      starts.push(after);
      received.set(s, []);
      cancels.push(await hub.subscribe(key, after, (entries) => received.get(s)!.push(...entries.map(([id]) => id))));
      expect(hub.readerCount).toBe(1);
      await new Promise((r) => setTimeout(r, 3));
    }
    await producer;
    const last = ids.at(-1)!;
    for (let i = 0; i < 200 && [...received.values()].some((r) => r.at(-1) !== last); i++) await new Promise((r) => setTimeout(r, 10));
    for (const [s, got] of received) {
      const expected = ids.slice(starts[s] === '0-0' ? 0 : ids.indexOf(starts[s]!) + 1);
      expect(got, `subscriber ${s}`).toEqual(expected);
    }
    for (const cancel of cancels) cancel();
    expect(hub.readerCount).toBe(0);
    hub.closeAll();
  });
});
