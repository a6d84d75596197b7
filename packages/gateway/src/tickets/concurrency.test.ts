import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

async function reported() {
  const res = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

describe('concurrent commands on one ticket', () => {
  it('lets exactly one of two conflicting commands win; the other gets a conflict and nothing is half-written', async () => {
    for (let round = 0; round < 10; round++) {
      const ticket = await reported();
      const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
      const [a, b] = await Promise.all([
        inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-1' } }),
        inject(gw, 'POST', `/v1/tickets/${ticket.id}/reject`, { auth: dispatcher, body: { reason: 'invalid' } }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(['CL_ERR_VERSION_CONFLICT', 'CL_ERR_INVALID_TRANSITION']).toContain(loser.body.error.code);
      const winner = a.status === 200 ? a : b;

      const stored = await inject(gw, 'GET', `/v1/tickets/${ticket.id}`, { auth: gw.tenant.secretKey });
      expect(stored.body.version).toBe(2);
      expect(stored.body.status).toBe(winner.body.ticket.status);
      const history = await inject(gw, 'GET', `/v1/tickets/${ticket.id}/history`, { auth: gw.tenant.secretKey });
      expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['reported', winner.body.event.type]);
      // The index holds the ticket under the winner's status only.
      const keys = gw.services.tickets.keys(gw.tenant.id);
      const inReported = await gw.redis.client.zscore(keys.index.status('reported'), ticket.id);
      expect(inReported).toBeNull();
      expect(await gw.redis.client.zscore(keys.index.status(stored.body.status), ticket.id)).not.toBeNull();
    }
  });

  it('reports a version conflict when the ticket moved under the command (expectedVersion)', async () => {
    const ticket = await reported();
    const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
    await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } });
    const stale = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/reassign`, { auth: dispatcher, body: { unitId: 'municipal', expectedVersion: 1 } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('CL_ERR_VERSION_CONFLICT');
  });
});

describe('idempotency', () => {
  it('creates one ticket for the same Idempotency-Key sent twice, even concurrently', async () => {
    const key = `test-${Date.now()}-create`;
    const before = await gw.redis.client.zcard(gw.services.tickets.keys(gw.tenant.id).index.all);
    const [a, b] = await Promise.all([
      inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers: { 'idempotency-key': key } }),
      inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers: { 'idempotency-key': key } }),
    ]);
    const third = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers: { 'idempotency-key': key } });
    // Either both got the ticket, or one was told the other copy is still running (retryable).
    const ran = [a, b].filter((r) => r.status === 201);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    for (const waiting of [a, b].filter((r) => r.status !== 201))
      expect(waiting.body.error).toMatchObject({ code: 'CL_ERR_IDEMPOTENCY_IN_PROGRESS', retryable: true });
    expect(new Set([...ran.map((r) => r.body.id), third.body.id]).size).toBe(1);
    // The copy that created the ticket gave the first answer; a repeat gets exactly that.
    const first = ran.find((r) => r.headers.get('idempotent-replayed') === null)!;
    expect(third.body).toEqual(first.body);
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(await gw.redis.client.zcard(gw.services.tickets.keys(gw.tenant.id).index.all)).toBe(before + 1);
  });

  it('answers a repeated create with its first answer, not the ticket as it is by then', async () => {
    const headers = { 'idempotency-key': `test-${Date.now()}-create-moved` };
    const first = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers });
    expect(first.status).toBe(201);
    const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
    const moved = await inject(gw, 'POST', `/v1/tickets/${first.body.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } });
    expect(moved.body.ticket).toMatchObject({ status: 'dispatched', version: 2 });
    const again = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect([again.status, again.body]).toEqual([201, first.body]);
    expect(again.body).toMatchObject({ status: 'reported', version: 1 });
  });

  it('refuses the same key for a different request, writing nothing', async () => {
    const key = `test-${Date.now()}-reuse`;
    await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT, headers: { 'idempotency-key': key } });
    const snapshot = await snapshotRedis(gw.redis.client);
    const other = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, description: 'something else' },
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('CL_ERR_IDEMPOTENCY_KEY_REUSED');
    expect(await snapshotRedis(gw.redis.client)).toEqual(snapshot);
  });

  it('replays a command retried with its key instead of failing the second time', async () => {
    const ticket = await reported();
    const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
    const headers = { 'idempotency-key': `test-${Date.now()}-dispatch` };
    const first = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' }, headers });
    const again = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' }, headers });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const history = await inject(gw, 'GET', `/v1/tickets/${ticket.id}/history`, { auth: dispatcher });
    expect(history.body.items).toHaveLength(2);
  });

  it('does a command once even when its first answer was lost (the gateway stopped after the write)', async () => {
    const ticket = await reported();
    const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
    const headers = { 'idempotency-key': `test-${Date.now()}-lost-answer` };
    const first = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' }, headers });
    expect(first.status).toBe(200);
    // As if the gateway had died between the commit and storing its answer.
    const stored = await gw.redis.client.keys(`cl:{${gw.tenant.id}}:idemr:*`);
    await gw.redis.client.del(...stored);
    const again = await inject(gw, 'POST', `/v1/tickets/${ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' }, headers });
    expect(again.status).toBe(200);
    expect(again.body.ticket.version).toBe(2);
    expect(again.body.event).toBeNull();
    const history = await inject(gw, 'GET', `/v1/tickets/${ticket.id}/history`, { auth: dispatcher });
    expect(history.body.items).toHaveLength(2);
  });

  it('numbers tickets TENANTCODE-YYYYMMDD-NNNN in sequence and finds them by number', async () => {
    const a = await reported();
    const b = await reported();
    const getA = await inject(gw, 'GET', `/v1/tickets/${a.id}`, { auth: gw.tenant.secretKey });
    const getB = await inject(gw, 'GET', `/v1/tickets/${b.id}`, { auth: gw.tenant.secretKey });
    const pattern = new RegExp(`^${gw.tenant.code}-\\d{8}-(\\d{4})$`);
    const seqA = Number(pattern.exec(getA.body.number)?.[1]);
    const seqB = Number(pattern.exec(getB.body.number)?.[1]);
    expect(seqB).toBe(seqA + 1);
    const found = await inject(gw, 'GET', `/v1/tickets/by-number/${getB.body.number}`, { auth: gw.tenant.secretKey });
    expect(found.body.id).toBe(b.id);
  });
});
