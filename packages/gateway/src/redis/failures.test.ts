import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReplyError } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, QUIET_ON_FREE_PORTS, api, inject, startTestGateway, startTestRedis } from '@civicloop/test-support/gateway-harness.js';
import { failSnapshot, recoverSnapshot, stopSnapshots } from '@civicloop/test-support/redis-faults.js';
import { loadConfig } from '../core/config.js';
import { toCivicLoopError } from '../http/error-handler.js';
import { startGateway } from '../server.js';
import { startRedisServer } from './embedded-redis.js';
import { isRedisUnavailable } from './errors.js';
import { tenantKeys } from './keys.js';
import { nativeTopic } from '@civicloop/model';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const quiet = { log: () => undefined, logger: false };
const PORTAL = 'https://portal.example.org';

async function poll<T>(what: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (until(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis failures answer 503 CL_ERR_UNAVAILABLE with Retry-After, never 500', () => {
  it('classifies every kind of Redis failure as unavailable, and a bug as internal', () => {
    const replies = [
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'MOVED 3999 127.0.0.1:6381',
      'ASK 3999 127.0.0.1:6381',
      'NOSCRIPT No matching script. Please use EVAL.',
      'LOADING Redis is loading the dataset in memory',
      "READONLY You can't write against a read only replica.",
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      "OOM command not allowed when used memory > 'maxmemory'.",
      // Redis 7.0's replies with its AOF's disk full, to a command and to a script.
      'MISCONF Errors writing to the AOF file: No space left on device',
      'MISCONF Errors writing to the AOF file: No space left on device script: 5849fad0707709da5733f013e31b917a7e7d3e87, on @user_script:1.',
      'BUSY Redis is busy running a script.',
    ];
    for (const message of replies) expect(toCivicLoopError(new ReplyError(message)).code, message).toBe('CL_ERR_UNAVAILABLE');
    const clientSide = [
      Object.assign(new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.'), {
        name: 'MaxRetriesPerRequestError',
      }),
      Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' }),
      new Error('Connection is closed.'),
      new Error('connect ECONNREFUSED 127.0.0.1:6379'),
      Object.assign(new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), {
        lastNodeError: new Error('Connection is closed.'),
      }),
    ];
    for (const error of clientSide) expect(isRedisUnavailable(error), error.message).toBe(true);
    expect(toCivicLoopError(new ReplyError('ERR user_script:1: Script attempted to access nonexistent global variable')).code).toBe('CL_ERR_INTERNAL');
    expect(toCivicLoopError(new TypeError('x is undefined')).code).toBe('CL_ERR_INTERNAL');
  });

  it('answers 503 with Retry-After (and CORS for an allowed page) while Redis is down, and the SDK carries a create across the outage', async () => {
    // With its AOF, so that what was written before the outage is there after it.
    const redis = await startTestRedis({ appendOnly: true });
    const gw = await startTestGateway({}, { redis });
    let restarted: Awaited<ReturnType<typeof startRedisServer>> | undefined;
    try {
      await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [PORTAL] });
      // Warm the auth cache, so the refusal comes from the ticket write, not the key lookup.
      expect((await inject(gw, 'GET', '/v1/tickets', { auth: gw.tenant.secretKey })).status).toBe(200);
      const port = redis.server.port;
      await redis.server.stop();
      const down = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers: { origin: PORTAL } });
      expect(down.status).toBe(503);
      expect(down.body.error).toMatchObject({ code: 'CL_ERR_UNAVAILABLE', retryable: true });
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(down.headers.get('access-control-allow-origin')).toBe(PORTAL);
      const health = await inject(gw, 'GET', '/v1/health');
      expect(health.status).toBe(503);
      // Open311 says the same in its own error format.
      const open311 = await fetch(`${gw.url}/open311/v2/services.json?jurisdiction_id=${gw.tenant.code}`);
      expect(open311.status).toBe(503);
      expect(Number(open311.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await open311.json()).toEqual([{ code: 503, description: expect.any(String) }]);

      // A create sent during the outage succeeds once Redis is back, exactly once.
      // Redis comes back once the gateway has refused the create at least once (a 503 the SDK retries).
      const refusals: number[] = [];
      const watching: typeof fetch = async (input, init) => {
        const answer = await fetch(input, init);
        if (answer.status === 503) refusals.push(answer.status);
        return answer;
      };
      const sdk = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey, maxRetries: 8, retryBaseDelayMs: 200, retryMaxDelayMs: 1500, fetch: watching });
      const pending = sdk.tickets.create(BIN_REPORT, { idempotencyKey: 'created-during-an-outage' });
      await expect.poll(() => refusals.length).toBeGreaterThan(0);
      restarted = await startRedisServer({ dir: redis.dir, port, appendOnly: true });
      const ticket = await pending;
      expect(ticket.number).toMatch(/-0001$/);
      const list = await sdk.tickets.list({ limit: 50 });
      expect(list.items.filter((t) => t.id === ticket.id)).toHaveLength(1);
    } finally {
      await gw.close();
      await restarted?.stop();
      redis.client.disconnect();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  });

  it('refuses an MQTT CONNECT it cannot check with 3 (server unavailable), not 4, while Redis is down; the device gets in once it is back', async () => {
    const redis = await startTestRedis({ appendOnly: true });
    const gw = await startTestGateway({}, { redis, telemetry: true });
    let restarted: Awaited<ReturnType<typeof startRedisServer>> | undefined;
    const connect = () =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, { ...credential, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    let credential = { username: '', password: '' };
    try {
      const created = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Badge of Li', staffId: 'w-li' } });
      credential = created.body.credential;
      const port = redis.server.port;
      await redis.server.stop();
      // The credential has never been checked, so nothing cached can answer for Redis.
      await expect(connect()).rejects.toMatchObject({ code: 3 });
      restarted = await startRedisServer({ dir: redis.dir, port, appendOnly: true });
      const client = await poll(
        () => connect().catch((error: unknown) => error as Error),
        (value) => !(value instanceof Error),
      );
      expect(client).toBeInstanceOf(mqtt.MqttClient);
      await (client as mqtt.MqttClient).endAsync();
    } finally {
      await gw.close();
      await restarted?.stop();
      redis.client.disconnect();
      rmSync(redis.dir, { recursive: true, force: true });
    }
  });

  it('answers 503 when its Redis is demoted to a replica (READONLY), and runs again after a SCRIPT FLUSH (NOSCRIPT)', async () => {
    const gw = await startTestGateway();
    const other = await startTestRedis();
    try {
      const created = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
      expect(created.status).toBe(201);
      // The scripts the gateway loaded are gone, as after a restart without persistence.
      await gw.redis.client.script('FLUSH');
      expect((await inject(gw, 'POST', `/v1/tickets/${created.body.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' } })).status).toBe(
        200,
      );
      expect((await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).status).toBe(201);
      // A failover demoted this server: writes are refused with READONLY.
      await gw.redis.client.replicaof('127.0.0.1', other.server.port);
      const refused = await poll(
        () => inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT }),
        (r) => r.status !== 201,
      );
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('CL_ERR_UNAVAILABLE');
      expect((await inject(gw, 'GET', '/v1/health')).body).toMatchObject({ status: 'degraded', writes: 'refused', reason: expect.stringMatching(/^READONLY/) });
      await gw.redis.client.replicaof('NO', 'ONE');
    } finally {
      await gw.close();
      await other.stop();
    }
  });
  it('answers 503 within REDIS_SOCKET_TIMEOUT_MS while Redis hangs (paused: takes connections, answers nothing), and serves again once it runs', async () => {
    const redis = await startTestRedis();
    const gw = await startTestGateway({ redisSocketTimeoutMs: 1000 }, { redis });
    try {
      expect((await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).status).toBe(201);
      // SIGSTOP: the kernel still accepts and acknowledges, the server never replies.
      process.kill(redis.server.pid, 'SIGSTOP');
      const started = Date.now();
      const health = await inject(gw, 'GET', '/v1/health');
      const create = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
      const list = await inject(gw, 'GET', '/v1/tickets', { auth: gw.tenant.secretKey });
      for (const answer of [health, create, list]) {
        expect(answer.status).toBe(503);
        expect(answer.body.error.code).toBe('CL_ERR_UNAVAILABLE');
        expect(answer.headers.get('retry-after')).toBe('2');
      }
      // Bounded by the timeout (and the reconnection's), not by the pause.
      expect(Date.now() - started).toBeLessThan(15_000);
      process.kill(redis.server.pid, 'SIGCONT');
      const back = await poll(
        () => inject(gw, 'GET', '/v1/health'),
        (r) => r.status === 200,
      );
      expect(back.body).toMatchObject({ status: 'ok', writes: 'ok' });
      expect((await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).status).toBe(201);
    } finally {
      process.kill(redis.server.pid, 'SIGCONT');
      await gw.close();
      await redis.stop();
    }
  });

  it("answers 503 and leaves a device's position unacknowledged while Redis cannot write to its disk (MISCONF), then stores it once it can", async () => {
    const redis = await startTestRedis();
    const gw = await startTestGateway({}, { redis, telemetry: true });
    const client = redis.client;
    let device: mqtt.MqttClient | undefined;
    try {
      const created = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Badge of Chen' } });
      const { device: badge, credential } = created.body as { device: { id: string }; credential: { username: string; password: string } };
      device = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
        ...credential,
        clientId: badge.id,
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 200,
      });
      // Redis's last snapshot failed (as on a full disk): from now on it refuses every write, scripts' too.
      await failSnapshot(client);
      await expect(client.set('probe', '1')).rejects.toThrow(/^MISCONF/);
      // The health check says so, and stays 200: reads still work.
      const degraded = await inject(gw, 'GET', '/v1/health');
      expect(degraded.status).toBe(200);
      expect(degraded.body).toMatchObject({ status: 'degraded', redis: 'up', writes: 'refused', reason: expect.stringMatching(/^MISCONF/) });
      expect((await inject(gw, 'GET', '/v1/tickets', { auth: gw.tenant.secretKey })).status).toBe(200);
      // A gateway started now (a restart, one more behind the balancer) starts, and says the same.
      const another = await startGateway({
        config: loadConfig({ ...QUIET_ON_FREE_PORTS, REDIS_URL: redis.url, DATA_DIR: tempDir('civicloop-another-'), CIVICLOOP_MASTER_KEY: 'test-master-key' }),
        ...quiet,
      });
      expect((await api(another.url, 'GET', '/v1/health')).body).toMatchObject({ status: 'degraded', writes: 'refused' });
      await another.close();

      const refused = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('CL_ERR_UNAVAILABLE');
      expect(refused.headers.get('retry-after')).toBe('2');

      // A position sent now is not acknowledged (and so not dropped): the broker closes the
      // connection, and the device keeps the message to send again.
      const fix = { ts: Date.now() - 1000, lat: 23.1291, lon: 113.2644 };
      const closed = new Promise<void>((resolve) => device!.once('close', () => resolve()));
      const acknowledged = device.publishAsync(nativeTopic(gw.tenant.id, 'badge', badge.id, 'position'), JSON.stringify(fix), { qos: 1 });
      expect(await Promise.race([closed.then(() => 'closed'), acknowledged.then(() => 'acknowledged and dropped')])).toBe('closed');
      const track = tenantKeys(gw.tenant.id).track(badge.id);
      expect(await client.xlen(track)).toBe(0);

      // The disk is back: the next save succeeds and Redis takes writes again.
      await recoverSnapshot(client);
      await acknowledged;
      expect(await client.xlen(track)).toBe(1);
      expect((await inject(gw, 'GET', '/v1/health')).body).toEqual({ status: 'ok', redis: 'up', writes: 'ok' });
      expect((await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).status).toBe(201);
      const counters = await inject(gw, 'GET', `/v1/devices/${badge.id}`, { auth: gw.tenant.secretKey });
      expect(JSON.stringify(counters.body)).not.toContain('unstorable');
    } finally {
      device?.end(true);
      await gw.close();
      await stopSnapshots(client);
      await redis.stop();
    }
  });
});

describe('the embedded redis-server is supervised', () => {
  it('is started again (same data, same AOF) when it dies, and health recovers without a gateway restart', async () => {
    const dataDir = tempDir('civicloop-supervised-');
    const lines: string[] = [];
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      MQTT_ENABLED: 'false',
      JT808_PORT: 'false',
      LOG_LEVEL: 'silent',
      CIVICLOOP_OPERATOR_TOKEN: 'op',
    });
    const gw = await startGateway({ config, log: (line) => lines.push(line), logger: false });
    try {
      const tenant = await inject(gw, 'POST', '/v1/tenants', { auth: 'op', body: { code: 'SUP', name: 'Supervised' } });
      const created = await inject(gw, 'POST', '/v1/tickets', { auth: tenant.body.secretKey, body: BIN_REPORT });
      expect(created.status).toBe(201);
      // Kill the server without warning. Redis writes the AOF before it answers (the fsync, every
      // second, only matters if the machine itself goes down), so the 201 means the ticket is on file.
      const firstPid = gw.embeddedRedis!.pid;
      process.kill(firstPid, 'SIGKILL');
      const health = await poll(
        () => inject(gw, 'GET', '/v1/health'),
        (r) => r.status === 200 && gw.embeddedRedis!.restarts === 1,
      );
      expect(health.status).toBe(200);
      expect(gw.embeddedRedis!.pid).not.toBe(firstPid);
      expect(lines.some((l) => l.includes(`redis-server (pid ${firstPid}) exited`))).toBe(true);
      const fetched = await inject(gw, 'GET', `/v1/tickets/${created.body.id}`, { auth: tenant.body.secretKey });
      expect(fetched.body.number).toBe(created.body.number);
      expect((await inject(gw, 'POST', '/v1/tickets', { auth: tenant.body.secretKey, body: BIN_REPORT })).status).toBe(201);
    } finally {
      await gw.close();
    }
  });
});

describe('the master key', () => {
  it('refuses to start, naming CIVICLOOP_MASTER_KEY, when it cannot decrypt the stored secrets', async () => {
    const redis = await startTestRedis();
    const env = {
      REDIS_URL: redis.url,
      PORT: '0',
      MQTT_ENABLED: 'false',
      JT808_PORT: 'false',
      LOG_LEVEL: 'silent',
      DATA_DIR: tempDir('civicloop-master-'),
      CIVICLOOP_OPERATOR_TOKEN: 'op',
    };
    try {
      const first = await startGateway({ config: loadConfig({ ...env, CIVICLOOP_MASTER_KEY: 'the-right-key' }), ...quiet });
      await api(first.url, 'POST', '/v1/tenants', { auth: 'op', body: { code: 'MK', name: 'Master key' } });
      await first.close();
      await expect(startGateway({ config: loadConfig({ ...env, CIVICLOOP_MASTER_KEY: 'a-wrong-key' }), ...quiet })).rejects.toMatchObject({
        code: 'CL_ERR_CONFIG',
        message: expect.stringContaining('CIVICLOOP_MASTER_KEY'),
      });
      // Nothing was changed by the refused start: the right key still works.
      const again = await startGateway({ config: loadConfig({ ...env, CIVICLOOP_MASTER_KEY: 'the-right-key' }), ...quiet });
      expect((await api(again.url, 'GET', '/v1/health')).status).toBe(200);
      await again.close();
    } finally {
      await redis.stop();
    }
  });
});
