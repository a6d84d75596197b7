import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN_REPORT, QUIET_ON_FREE_PORTS, api, startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { buildApp } from './app.js';
import { loadConfig } from './core/config.js';
import { connectRedis } from './redis/connect.js';
import { tenantKeys } from './redis/keys.js';
import { startGateway, type RunningGateway } from './server.js';
import { StatsThread } from './stats-thread.js';

let redis: TestRedis;
let gateway: RunningGateway | undefined;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});
afterAll(async () => redis?.stop());

const WAIT = { timeout: 15_000, interval: 25 };

/** A gateway as the gateway command starts it, on the test Redis, its log's warnings and errors kept as parsed lines. */
async function start(env: Record<string, string> = {}) {
  const lines: { msg: string; err?: { message: string }; code?: number }[] = [];
  const config = loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: redis.url, MQTT_ENABLED: 'false', SCHEDULER_POLL_MS: '50', ...env });
  const logger = { level: 'warn', stream: { write: (line: string) => lines.push(JSON.parse(line)) } };
  gateway = await startGateway({ config, log: () => undefined, logger: logger as object });
  return { gateway, lines, ...(await tenantOf(gateway)) };
}

/** A new tenant of the gateway: a report of it, and its statistics once counted. */
async function tenantOf(gw: RunningGateway) {
  const issued = await gw.services.tenants.create({ code: `ST${Math.floor(Math.random() * 1e6)}`, name: 'Statistics thread' });
  const report = async () => {
    const created = await api(gw.url, 'POST', '/v1/tickets', { auth: issued.secretKey, body: BIN_REPORT });
    expect(created.status).toBe(201);
  };
  const keys = tenantKeys(issued.tenant.id);
  /** Waits until the statistics have counted every event of the tenant's stream, and answers how many reports they hold. */
  const counted = async () => {
    const [last] = (await redis.client.xrevrange(keys.events, '+', '-', 'COUNT', 1)) as [string, string[]][];
    await vi.waitFor(async () => expect(await redis.client.get(keys.stats.cursor)).toBe(last![0]), WAIT);
    const days = await redis.client.keys(keys.stats.day('*'));
    expect(days).toHaveLength(1);
    return Number(await redis.client.hget(days[0]!, 'all|created'));
  };
  return { report, counted, keys };
}

describe('the statistics thread (STATS_THREAD, the default)', () => {
  it("counts a gateway's reports off the thread that serves them, and ends with the gateway", async () => {
    const { gateway: gw, report, counted } = await start();
    const worker = gw.statsThread?.worker;
    expect(worker).toBeDefined();
    // This thread's projector only counts when a statistics read asks it to: none does here.
    const onThisThread = vi.spyOn(gw.stats, 'catchUp');
    for (let i = 0; i < 3; i++) await report();
    expect(await counted()).toBe(3);
    expect(onThisThread).not.toHaveBeenCalled();

    const ended = once(worker!, 'exit');
    await gw.close();
    gateway = undefined;
    expect(await ended).toEqual([0]);
    expect(gw.statsThread?.worker).toBeUndefined();
  });

  it("logs a failed pass in the gateway's log, and counts on once the cause is gone", async () => {
    const { lines, report, counted, keys } = await start();
    // A pass reads the black-spot notes left pending first: a key of the wrong type fails it.
    await redis.client.set(keys.blackSpotPending, 'not a hash');
    await report();
    await vi.waitFor(() => expect(lines.find((l) => l.msg === 'statistics pass failed; trying again')?.err?.message).toMatch(/WRONGTYPE/), WAIT);
    expect(await redis.client.exists(keys.stats.cursor)).toBe(0);
    await redis.client.del(keys.blackSpotPending);
    expect(await counted()).toBe(1);
  });

  it('is started again when it ends, and counts on', async () => {
    const { gateway: gw, lines, report, counted } = await start();
    await vi.waitFor(() => expect(gw.statsThread?.counting).toBe(true), WAIT);
    const first = gw.statsThread!.worker!;
    await first.terminate();
    await vi.waitFor(() => expect(lines.some((l) => /^the statistics thread ended \(exit code 1\); starting it again/.test(l.msg))).toBe(true), WAIT);
    await vi.waitFor(() => expect(gw.statsThread?.counting).toBe(true), WAIT);
    expect(gw.statsThread!.worker!.threadId).not.toBe(first.threadId);
    await report();
    expect(await counted()).toBe(1);
  });

  it('is not used with STATS_THREAD=false: the gateway counts on its own thread', async () => {
    const { gateway: gw, report, counted } = await start({ STATS_THREAD: 'false' });
    expect(gw.statsThread).toBeUndefined();
    const onThisThread = vi.spyOn(gw.stats, 'runOnce');
    await report();
    expect(await counted()).toBe(1);
    expect(onThisThread).toHaveBeenCalled();
  });

  it('hands the counting back to the main thread when it cannot start', async () => {
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: redis.url });
    const errors: { msg: string; err?: { message: string } }[] = [];
    const fallBack = vi.fn();
    // Nothing listens on port 1: the thread's own connection fails, before it counts anything.
    const thread = new StatsThread(
      { config, redisUrl: 'redis://127.0.0.1:1', masterKey: 'test' },
      { warn: () => undefined, error: (obj, msg) => errors.push({ msg, ...obj }) },
      fallBack,
    );
    thread.start();
    await vi.waitFor(() => expect(fallBack).toHaveBeenCalledTimes(1), WAIT);
    expect(errors.map((e) => e.msg)).toEqual([
      'the statistics thread could not start',
      'the statistics thread ended before it counted; counting on the main thread instead',
    ]);
    expect(errors[0]!.err?.message).toMatch(/^Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    expect(thread.worker).toBeUndefined();
    await thread.stop();
  });

  it("counts on the gateway's own thread when the thread cannot start, as the app wires it", async () => {
    const lines: { msg: string }[] = [];
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: redis.url, MQTT_ENABLED: 'false', SCHEDULER_POLL_MS: '50' });
    const client = await connectRedis({ url: redis.url, cluster: false });
    // The thread is told a Redis nobody listens on; the app's own client reaches the real one.
    const logger = { level: 'warn', stream: { write: (line: string) => lines.push(JSON.parse(line)) } };
    const app = await buildApp({ config, redis: client, masterKey: 'test', redisUrl: 'redis://127.0.0.1:1', logger: logger as object });
    try {
      const onThisThread = vi.spyOn(app.stats, 'runOnce');
      await vi.waitFor(() => expect(onThisThread).toHaveBeenCalled(), WAIT);
      expect(lines.map((l) => l.msg)).toContain('the statistics thread ended before it counted; counting on the main thread instead');
      expect(app.statsThread?.worker).toBeUndefined();
      const issued = await app.services.tenants.create({ code: `SF${Math.floor(Math.random() * 1e6)}`, name: 'Fallback' });
      const created = await app.app.inject({
        method: 'POST',
        url: '/v1/tickets',
        headers: { authorization: `Bearer ${issued.secretKey}` },
        payload: BIN_REPORT,
      });
      expect(created.statusCode).toBe(201);
      const keys = tenantKeys(issued.tenant.id);
      await vi.waitFor(async () => expect(await redis.client.exists(keys.stats.cursor)).toBe(1), WAIT);
    } finally {
      await app.app.close();
      client.disconnect();
    }
  });
});
