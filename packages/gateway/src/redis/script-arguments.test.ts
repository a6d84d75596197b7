import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { defineScript } from './define-script.js';
import { TurnBatchingRedis } from './turn-batching-redis.js';

/** The script under test: answers with its keys and arguments as Redis received them. */
type Echo = { echo(numKeys: number, ...args: unknown[]): Promise<string[]>; echoBuffer(numKeys: number, ...args: unknown[]): Promise<Buffer[]> };

let redis: TestRedis;
let client: Redis & Echo;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new TurnBatchingRedis(redis.url, { lazyConnect: true }) as unknown as Redis & Echo;
  await client.connect();
  defineScript(client, 'echo', 'local all = {} for _, k in ipairs(KEYS) do all[#all + 1] = k end for _, a in ipairs(ARGV) do all[#all + 1] = a end return all');
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('a script registered through defineScript', () => {
  it('sends its arguments as given, without copying them through Array.prototype.flat, numbers as text', async () => {
    const args = Array.from({ length: 60 }, (_, i) => (i % 2 ? i : `arg-${i}`));
    const flat = vi.spyOn(Array.prototype, 'flat');
    let reply: string[];
    try {
      reply = await client.echo(2, 'key:a', 'key:b', ...args);
    } finally {
      // The only lists ioredis flattens for this call are the empty ones its base constructor is handed.
      const flattened = flat.mock.contexts.filter((list) => (list as unknown[]).length > 0);
      flat.mockRestore();
      expect(flattened).toEqual([]);
    }
    expect(reply).toEqual(['key:a', 'key:b', ...args.map(String)]);
  });

  it('still flattens a list passed among its arguments, as ioredis does', async () => {
    expect(await client.echo(1, 'key:a', ['x', 2], 'y')).toEqual(['key:a', 'x', '2', 'y']);
  });

  it('sends a Buffer argument as bytes and answers in Buffers through its Buffer variant', async () => {
    const bytes = Buffer.from([0, 255, 10, 13]);
    const reply = await client.echoBuffer(1, 'key:a', bytes, 'text');
    expect(reply.map((b) => b.toString('hex'))).toEqual([Buffer.from('key:a').toString('hex'), '00ff0a0d', Buffer.from('text').toString('hex')]);
  });

  it('runs again after Redis forgot the script (NOSCRIPT, then the script sent whole)', async () => {
    expect(await client.echo(0, 'before')).toEqual(['before']);
    await redis.client.script('FLUSH');
    expect(await client.echo(0, 'after', 7)).toEqual(['after', '7']);
  });
});
