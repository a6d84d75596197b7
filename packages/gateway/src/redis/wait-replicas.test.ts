import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop, CivicLoopApiError } from '@civicloop/sdk';
import type { PositionRecord } from '@civicloop/model';
import { BIN_REPORT, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { PositionWriter } from '../store/position-writer.js';
import { startRedisServer, type RunningRedis } from './embedded-redis.js';
import { tenantKeys } from './keys.js';

// REDIS_WAIT_REPLICAS against a real primary and a real replica: the replica is paused (SIGSTOP)
// to make it miss its confirmation, as a slow or cut-off replica would.
let primary: TestRedis;
let replica: RunningRedis;
let replicaDir: string;
let replicaClient: Redis;
let gateway: TestGateway;

beforeAll(async () => {
  primary = await startTestRedis();
  replicaDir = mkdtempSync(path.join(tmpdir(), 'civicloop-replica-'));
  replica = await startRedisServer({ dir: replicaDir, extraArgs: ['--replicaof', '127.0.0.1', String(primary.server.port)] });
  replicaClient = new Redis(replica.url);
  replicaClient.on('error', () => undefined);
  for (let i = 0; i < 200 && !(await replicaClient.info('replication')).includes('master_link_status:up'); i++) await new Promise((r) => setTimeout(r, 50));
  gateway = await startTestGateway({ redisWaitReplicas: 1, redisWaitTimeoutMs: 300 }, { redis: primary });
});
afterAll(async () => {
  process.kill(replica.pid, 'SIGCONT');
  await gateway?.close();
  replicaClient?.disconnect();
  await replica?.stop();
  await primary?.stop();
  rmSync(replicaDir, { recursive: true, force: true });
});

const waits = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await primary.client.info('commandstats'))?.[1] ?? 0);

describe('REDIS_WAIT_REPLICAS', () => {
  it('answers a ticket write once the replica has it, and refuses to answer while the replica is silent, without losing or doubling the ticket', async () => {
    const sdk = new CivicLoop({ baseUrl: gateway.url, apiKey: gateway.tenant.secretKey, maxRetries: 0 });
    const keys = tenantKeys(gateway.tenant.id);
    const before = await waits();
    const first = await sdk.tickets.create(BIN_REPORT);
    expect(await waits()).toBeGreaterThan(before);
    // Confirmed by the replica before the answer: it is there as soon as the answer is.
    expect(await replicaClient.exists(keys.ticket(first.id))).toBe(1);

    process.kill(replica.pid, 'SIGSTOP');
    const refused = await fetch(`${gateway.url}/v1/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.tenant.secretKey}`, 'content-type': 'application/json', 'idempotency-key': 'wait-replicas-1' },
      body: JSON.stringify({ ...BIN_REPORT, description: 'Second bin overflowing' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string; retryable: boolean } }).error).toMatchObject({ code: 'CL_ERR_NOT_REPLICATED', retryable: true });
    // The write itself stays on the primary: Redis cannot take it back.
    expect(await primary.client.xlen(keys.events)).toBe(2);
    // A transition is held to the same rule.
    const held = await sdk.tickets
      .dispatch(first.id, { unitId: 'sanitation', assigneeId: 'w-1' }, { idempotencyKey: 'wait-replicas-2' })
      .catch((error: unknown) => error);
    expect(held).toBeInstanceOf(CivicLoopApiError);
    expect(held).toMatchObject({ code: 'CL_ERR_NOT_REPLICATED', status: 503, retryable: true });
    process.kill(replica.pid, 'SIGCONT');

    // The retries with the same keys answer as the first attempts would have, once replicated.
    const second = await sdk.tickets.create({ ...BIN_REPORT, description: 'Second bin overflowing' }, { idempotencyKey: 'wait-replicas-1' });
    expect(await replicaClient.exists(keys.ticket(second.id))).toBe(1);
    const dispatched = await sdk.tickets.dispatch(first.id, { unitId: 'sanitation', assigneeId: 'w-1' }, { idempotencyKey: 'wait-replicas-2' });
    expect(dispatched.ticket.status).toBe('dispatched');
    // Dispatched once: the retry replayed the first attempt rather than applying it again.
    expect(dispatched.ticket.version).toBe(first.version + 1);
    expect(dispatched.event).toBeNull();
    const all = await sdk.tickets.list({});
    expect(all.items.map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
  });

  it('does not count a batch of positions as stored until the replica has it', async () => {
    const writer = new PositionWriter(primary.client, { trackMaxLen: 100, seenKeep: 100, maxBatch: 512, replicaWait: { replicas: 1, timeoutMs: 300 } });
    const fix = (fixTime: number): PositionRecord => ({
      deviceId: 'truck-1',
      kind: 'vehicle',
      fixTime,
      deviceTime: fixTime,
      serverTime: fixTime,
      valid: true,
      lat: 23.1,
      lon: 113.3,
      alarms: [],
      source: 'native',
      key: `truck-1:${fixTime}`,
    });
    const now = Date.now();
    process.kill(replica.pid, 'SIGSTOP');
    await expect(writer.write(gateway.tenant.id, [fix(now - 2000)])).rejects.toMatchObject({ code: 'CL_ERR_NOT_REPLICATED' });
    process.kill(replica.pid, 'SIGCONT');
    // Resent, as a device does without its acknowledgement: already on the primary, now confirmed.
    expect(await writer.write(gateway.tenant.id, [fix(now - 2000), fix(now - 1000)])).toEqual([false, true]);
    expect(await replicaClient.xlen(tenantKeys(gateway.tenant.id).track('truck-1'))).toBe(2);
  });
});

describe('REDIS_WAIT_REPLICAS=0 (the default)', () => {
  let plain: TestGateway;
  beforeAll(async () => {
    plain = await startTestGateway();
  });
  afterAll(async () => plain?.close());

  it('sends no WAIT', async () => {
    const sdk = new CivicLoop({ baseUrl: plain.url, apiKey: plain.tenant.secretKey });
    await sdk.tickets.create(BIN_REPORT);
    expect(await plain.redis.client.info('commandstats')).not.toContain('cmdstat_wait');
    expect(await plain.redis.client.info('commandstats')).toMatch(/cmdstat_eval(sha)?:/);
  });
});
