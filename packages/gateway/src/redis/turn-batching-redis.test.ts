import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { TurnBatchingRedis } from './turn-batching-redis.js';

let redis: TestRedis;
let client: TurnBatchingRedis;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new TurnBatchingRedis(redis.url, { enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => 20 });
  client.on('error', () => undefined);
  await client.connect();
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

/** How many reads redis-server has made from all its clients so far, this INFO's own included. */
const readsProcessed = async () => Number(/total_reads_processed:(\d+)/.exec(await redis.client.info('stats'))?.[1]);

describe('TurnBatchingRedis', () => {
  it('sends the commands of one turn in one write, which redis-server takes in one read', async () => {
    await redis.client.ping();
    const before = await readsProcessed();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => client.set(`batch:${i}`, String(i))));
    // The second INFO is one read of its own; everything else came from the batch.
    const batchReads = (await readsProcessed()) - before - 1;
    expect(replies).toEqual(Array.from({ length: 100 }, () => 'OK'));
    expect(batchReads).toBe(1);
    expect(await client.mget('batch:0', 'batch:99')).toEqual(['0', '99']);
  });

  it('answers each command of a batch in order, a failing one alone rejected', async () => {
    await client.set('batch:text', 'not a number');
    const [counted, failed, read, again] = await Promise.allSettled([
      client.incr('batch:counter'),
      client.incr('batch:text'),
      client.get('batch:text'),
      client.incr('batch:counter'),
    ]);
    expect(counted).toEqual({ status: 'fulfilled', value: 1 });
    expect(failed.status).toBe('rejected');
    expect(String((failed as PromiseRejectedResult).reason)).toMatch(/not an integer/);
    expect(read).toEqual({ status: 'fulfilled', value: 'not a number' });
    expect(again).toEqual({ status: 'fulfilled', value: 2 });
  });

  it('leaves no socket corked once the turn is over, and still runs pipelines and transactions', async () => {
    const pipelined = client.pipeline().set('batch:p', 'a').get('batch:p').exec();
    const transaction = client.multi().incr('batch:m').incr('batch:m').exec();
    expect(client.stream.writableCorked).toBe(1);
    await nextTurn();
    expect(client.stream.writableCorked).toBe(0);
    expect(await pipelined).toEqual([
      [null, 'OK'],
      [null, 'a'],
    ]);
    expect(await transaction).toEqual([
      [null, 1],
      [null, 2],
    ]);
  });

  it('sends a turn whose connection was lost before it left on the new connection, and corks the new socket', async () => {
    const ready = new Promise((resolve) => client.once('ready', resolve));
    const lost = Promise.all([client.incr('batch:lost'), client.get('batch:lost')]);
    const lostSocket = client.stream;
    lostSocket.destroy();
    // ioredis sends the unanswered commands again once reconnected (autoResendUnfulfilledCommands);
    // these never reached the old socket's peer, so they run once.
    expect(await lost).toEqual([1, '1']);
    expect(await redis.client.get('batch:lost')).toBe('1');
    await ready;
    expect(client.stream).not.toBe(lostSocket);
    const written = client.incr('batch:after');
    expect(client.stream.writableCorked).toBe(1);
    expect(await written).toBe(1);
    expect(client.stream.writableCorked).toBe(0);
  });
});
