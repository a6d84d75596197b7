import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { connectRedis } from './connect.js';
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

  it("starts a reader on the gateway's own client without a failed first read", async () => {
    // connectRedis's clients connect lazily and have no offline queue: a command on a connection
    // that is not up yet is refused at once. Every read the reader's connection refuses is
    // recorded here (the handshake's own commands are ioredis's business).
    const client = (await connectRedis({ url: redis.url, cluster: false })) as Redis;
    const refused: string[] = [];
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (...args: Parameters<Redis['duplicate']>) => {
      const connection = duplicate(...args);
      const send = connection.sendCommand.bind(connection);
      connection.sendCommand = (command, stream) => {
        if (command.name === 'xread') command.promise.catch((error: Error) => refused.push(error.message));
        return send(command, stream);
      };
      return connection;
    };
    const hub = new StreamHub(client, 1000);
    const received: string[] = [];
    const cancel = await hub.subscribe('hub-lazy', '0-0', (entries) => received.push(...entries.map(([id]) => id)));
    const id = (await client.xadd('hub-lazy', '*', 'n', '1'))!;
    await expect.poll(() => received).toEqual([id]);
    expect(refused).toEqual([]);
    cancel();
    client.disconnect();
  });

  it("reports its reader's connection errors to the hub's handler, not to stderr", async () => {
    const own = await startTestRedis();
    const client = await connectRedis({ url: own.url, cluster: false });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const errors: Error[] = [];
      const hub = new StreamHub(client, 1000, (error) => errors.push(error));
      const cancel = await hub.subscribe('hub-down', '0-0', () => undefined);
      // Redis goes away under an open reader: its connection fails while reconnecting.
      await own.server.stop();
      await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
      cancel();
      expect(stderr.mock.calls.filter((args) => String(args[0]).includes('ioredis'))).toEqual([]);
    } finally {
      stderr.mockRestore();
      client.disconnect();
      await own.stop();
    }
  });
});
