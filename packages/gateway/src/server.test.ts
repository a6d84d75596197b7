import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BIN_REPORT, QUIET_ON_FREE_PORTS, api, startTestRedis } from '@civicloop/test-support/gateway-harness.js';
import { startGatewayProcess } from '@civicloop/test-support/gateway-process.js';
import { failSnapshot, recoverSnapshot, stopSnapshots } from '@civicloop/test-support/redis-faults.js';
import { loadConfig } from './core/config.js';
import { seedDemo } from './demo.js';
import { startGateway } from './server.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'civicloop-embedded-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const quiet = { log: () => undefined, logger: false };

/** The redis-server processes working in a data directory (from /proc: redis-server changes its command line, not its directory). */
function redisServersOn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'redis-server' && readlinkSync(`/proc/${name}/cwd`) === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('startGateway with REDIS_URL unset', () => {
  it('runs its own redis-server with AOF under DATA_DIR, and tickets survive a restart', async () => {
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, DATA_DIR: dataDir });
    const first = await startGateway({ config, ...quiet });
    expect(first.embeddedRedis?.dir).toBe(path.join(dataDir, 'redis'));
    const demo = await seedDemo(first.services, dataDir);
    const created = await api(first.url, 'POST', '/v1/tickets', { auth: demo.secretKey, body: BIN_REPORT });
    expect(created.status).toBe(201);
    // The demo zone routes a street report in central Tianhe to the sanitation unit at once.
    const routed = await api(first.url, 'POST', '/v1/tickets', { auth: demo.secretKey, body: { ...BIN_REPORT, location: { lat: 23.1335, lon: 113.3242 } } });
    expect(routed.body).toMatchObject({ status: 'dispatched', unitId: 'sanitation' });
    const appendOnly = await first.services.redis.config('GET', 'appendonly');
    expect(appendOnly).toEqual(['appendonly', 'yes']);
    await first.close();
    expect(existsSync(path.join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

    const second = await startGateway({ config, ...quiet });
    expect(second.embeddedRedis?.reused).toBe(false);
    const again = await seedDemo(second.services, dataDir);
    expect(again.secretKey).toBe(demo.secretKey);
    // The portal's partner keeps its keys across starts, and lists its estate only.
    expect(again.partner).toEqual(demo.partner);
    const estates = await api(second.url, 'GET', '/v1/zones', { auth: demo.partner!.secretKey });
    expect(estates.body.items.map((z: { id: string }) => z.id)).toEqual(['sunny-gardens']);
    // A demo tenant made before it had zones gets them at the next start; one that has them keeps them.
    await second.services.zones.remove(demo.tenantId, 'sunny-gardens');
    await second.services.zones.remove(demo.tenantId, 'tianhe-demo');
    await seedDemo(second.services, dataDir);
    await seedDemo(second.services, dataDir);
    expect((await second.services.zones.list(demo.tenantId)).map((z) => z.id)).toEqual(['sunny-gardens', 'tianhe-demo']);
    // A demo partner whose saved keys were lost gets fresh ones, and stays one partner.
    await second.services.partners.rotate(demo.tenantId, demo.partner!.id, 'secret', new Date());
    const renewed = await seedDemo(second.services, dataDir);
    expect(renewed.partner!.id).toBe(demo.partner!.id);
    expect(renewed.partner!.secretKey).not.toBe(demo.partner!.secretKey);
    expect((await second.services.partners.list(demo.tenantId)).filter((p) => !p.disabledAt)).toHaveLength(1);
    const fetched = await api(second.url, 'GET', `/v1/tickets/${created.body.id}`, { auth: demo.secretKey });
    expect(fetched.body.number).toBe(created.body.number);
    await second.close();
    expect(JSON.parse(readFileSync(path.join(dataDir, 'demo-tenant.json'), 'utf8')).tenantId).toBe(demo.tenantId);
  });

  it('takes over the redis-server a killed gateway left running, even one refusing writes (MISCONF), and starts no second one on its AOF', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-left-'));
    const env = { ...QUIET_ON_FREE_PORTS, DATA_DIR: dir, CIVICLOOP_MASTER_KEY: 'left-running' };
    const killed = await startGatewayProcess(env);
    const left = JSON.parse(readFileSync(path.join(dir, 'redis', 'embedded.json'), 'utf8')) as { port: number; pid: number };
    await new Promise((resolve) => {
      killed.once('exit', resolve);
      killed.kill('SIGKILL');
    });
    // Its redis-server lives on, and cannot write to its disk: it answers even PING with MISCONF.
    const client = new Redis(`redis://127.0.0.1:${left.port}`);
    await failSnapshot(client);
    await expect(client.ping()).rejects.toThrow(/^MISCONF/);
    const config = loadConfig(env);
    const next = await startGateway({ config, ...quiet });
    try {
      expect(next.embeddedRedis).toMatchObject({ reused: true, pid: left.pid });
      expect(redisServersOn(path.join(dir, 'redis'))).toEqual([left.pid]);
      expect((await api(next.url, 'GET', '/v1/health')).body).toMatchObject({ status: 'degraded', writes: 'refused' });
      await recoverSnapshot(client);
      expect((await api(next.url, 'GET', '/v1/health')).body).toMatchObject({ status: 'ok', writes: 'ok' });
    } finally {
      await stopSnapshots(client);
      client.disconnect();
      await next.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(redisServersOn(path.join(dir, 'redis'))).toEqual([]);
  });

  it('names the port and the variable when PORT is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, DATA_DIR: dataDir, PORT: String(port) });
    await expect(startGateway({ config, ...quiet })).rejects.toMatchObject({
      code: 'CL_ERR_PORT_IN_USE',
      message: expect.stringMatching(new RegExp(`Port ${port}.*PORT`)),
    });
    blocker.close();
  });

  it('names the variable when the configuration is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    // A wait for replicas longer than a command may go unanswered would be taken for a dead connection.
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '5000', REDIS_SOCKET_TIMEOUT_MS: '5000' })).toThrow(
      /REDIS_SOCKET_TIMEOUT_MS \(5000\) must be more than REDIS_WAIT_TIMEOUT_MS \(5000\)/,
    );
    expect(loadConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '5000', REDIS_SOCKET_TIMEOUT_MS: '0' }).redisSocketTimeoutMs).toBe(0);
  });

  it('says which variable to fix when Redis is unreachable', async () => {
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: 'redis://127.0.0.1:1' });
    await expect(startGateway({ config, ...quiet })).rejects.toMatchObject({ code: 'CL_ERR_CONFIG', message: expect.stringContaining('REDIS_URL') });
  });

  it('drains in-flight requests on shutdown and refuses new ones', async () => {
    const redis = await startTestRedis();
    const config = loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: redis.url, DATA_DIR: dataDir, CIVICLOOP_MASTER_KEY: 'k' });
    const gateway = await startGateway({ config, ...quiet });
    const demo = await seedDemo(gateway.services, path.join(dataDir, 'drain'));
    // Hold Redis writes so the create below is still in flight when shutdown starts.
    const admin = new Redis(redis.url);
    await admin.call('CLIENT', 'PAUSE', '2000', 'WRITE');
    const inFlight = api(gateway.url, 'POST', '/v1/tickets', { auth: demo.secretKey, body: BIN_REPORT });
    // In flight: its write is the client Redis holds.
    const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await admin.info('clients'))?.[1]);
    await expect.poll(blocked).toBeGreaterThan(0);
    const closing = gateway.close();
    // Shutdown has begun: the listener no longer takes new connections.
    await expect.poll(() => gateway.app.server.listening).toBe(false);
    const late = await api(gateway.url, 'GET', '/v1/health').catch((error: Error) => ({ status: 0, error }));
    const finished = await inFlight;
    await closing;
    expect(finished.status).toBe(201);
    expect(finished.body.number).toMatch(/^DEMO-/);
    expect([0, 503]).toContain(late.status);
    expect(await admin.exists(`cl:{${demo.tenantId}}:ticket:${finished.body.id}`)).toBe(1);
    admin.disconnect();
    await redis.stop();
  });
});
