import { signToken } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, type TestTenant, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let other: TestTenant;
let ticketOfA: { id: string; number: string };
beforeAll(async () => {
  gw = await startTestGateway();
  other = await gw.createTenant('B');
  const res = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
  ticketOfA = res.body;
});
afterAll(async () => gw?.close());

describe('tenant isolation', () => {
  it('no key or token of tenant B reads or changes anything of tenant A', async () => {
    const bToken = await other.token('admin-b', 'admin');
    for (const auth of [other.secretKey, bToken]) {
      const get = await inject(gw, 'GET', `/v1/tickets/${ticketOfA.id}`, { auth });
      expect(get.status).toBe(404);
      expect(get.body.error.code).toBe('CL_ERR_NOT_FOUND');
      const byNumber = await inject(gw, 'GET', `/v1/tickets/by-number/${ticketOfA.number}`, { auth });
      expect(byNumber.status).toBe(404);
      const history = await inject(gw, 'GET', `/v1/tickets/${ticketOfA.id}/history`, { auth });
      expect(history.status).toBe(404);
      const list = await inject(gw, 'GET', '/v1/tickets', { auth });
      expect(list.status).toBe(200);
      expect(list.body.items.map((t: { id: string }) => t.id)).not.toContain(ticketOfA.id);
      const cancel = await inject(gw, 'POST', `/v1/tickets/${ticketOfA.id}/reject`, { auth, body: { reason: 'void' } });
      expect(cancel.status).toBe(404);
      const units = await inject(gw, 'GET', '/v1/units', { auth });
      expect(units.body.items).toEqual([]);
    }
    const still = await inject(gw, 'GET', `/v1/tickets/${ticketOfA.id}`, { auth: gw.tenant.secretKey });
    expect(still.body.status).toBe('reported');
  });

  it("a token claiming tenant A but signed with B's secret is refused", async () => {
    // Forge: B's secret key with A's tenant id swapped in, so iss says A.
    const disguised = `cl_sk_${gw.tenant.id}.${other.secretKey.split('.')[1]}`;
    const token = await signToken({ secretKey: disguised, sub: 'mallory', role: 'admin' });
    const res = await inject(gw, 'GET', `/v1/tickets/${ticketOfA.id}`, { auth: token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('CL_ERR_TOKEN_INVALID');
  });

  it('a publishable key of B with a token of A is refused', async () => {
    const aResident = await gw.tenant.token('resident-1', 'citizen');
    const res = await inject(gw, 'GET', '/v1/tickets', { auth: aResident, key: other.publishableKey });
    expect(res.status).toBe(401);
  });
});

describe('citizen isolation', () => {
  it('a resident sees and acts on their own tickets only', async () => {
    const alice = await gw.tenant.token('alice', 'citizen');
    const bob = await gw.tenant.token('bob', 'citizen');
    const mine = await inject(gw, 'POST', '/v1/tickets', { auth: alice, key: gw.tenant.publishableKey, body: { ...BIN_REPORT, channel: 'widget' } });
    expect(mine.status).toBe(201);
    expect(mine.body.reporter.sub).toBe('alice');

    const bobGet = await inject(gw, 'GET', `/v1/tickets/${mine.body.id}`, { auth: bob });
    expect(bobGet.status).toBe(404);
    const bobCancel = await inject(gw, 'POST', `/v1/tickets/${mine.body.id}/cancel`, { auth: bob, body: {} });
    expect(bobCancel.status).toBe(404);
    const bobList = await inject(gw, 'GET', '/v1/tickets', { auth: bob });
    expect(bobList.body.items).toEqual([]);
    const bobStaff = await inject(gw, 'GET', '/v1/staff', { auth: bob });
    expect(bobStaff.status).toBe(403);
    const bobDispatch = await inject(gw, 'POST', `/v1/tickets/${ticketOfA.id}/dispatch`, { auth: bob, body: { unitId: 'sanitation' } });
    expect(bobDispatch.status).toBe(404);

    const aliceList = await inject(gw, 'GET', '/v1/tickets', { auth: alice });
    expect(aliceList.body.items.map((t: { id: string }) => t.id)).toEqual([mine.body.id]);
    const aliceCancel = await inject(gw, 'POST', `/v1/tickets/${mine.body.id}/cancel`, { auth: alice, body: {} });
    expect(aliceCancel.status).toBe(200);
    expect(aliceCancel.body.ticket.status).toBe('cancelled');
  });

  it('a resident cannot pose as another reporter or channel', async () => {
    const alice = await gw.tenant.token('alice', 'citizen');
    const hotline = await inject(gw, 'POST', '/v1/tickets', { auth: alice, body: { ...BIN_REPORT, channel: 'hotline' } });
    expect(hotline.status).toBe(403);
  });

  it('a publishable key alone can report and read the catalogue, nothing else', async () => {
    const report = await inject(gw, 'POST', '/v1/tickets', { key: gw.tenant.publishableKey, body: BIN_REPORT });
    expect(report.status).toBe(201);
    expect(report.body.anonymous).toBe(true);
    const catalogue = await inject(gw, 'GET', '/v1/categories', { key: gw.tenant.publishableKey });
    expect(catalogue.body.categories.length).toBeGreaterThanOrEqual(40);
    for (const path of ['/v1/tickets', `/v1/tickets/${report.body.id}`, '/v1/units', '/v1/events']) {
      const res = await inject(gw, 'GET', path, { key: gw.tenant.publishableKey });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('CL_ERR_PUBLISHABLE_KEY_SCOPE');
    }
    const asBearer = await inject(gw, 'GET', '/v1/tickets', { auth: gw.tenant.publishableKey });
    expect(asBearer.body.error.code).toBe('CL_ERR_PUBLISHABLE_KEY_SCOPE');
  });

  it('a rotated secret key stops working, and so do tokens signed with it', async () => {
    const tenant = await gw.createTenant('R');
    const token = await tenant.token('d', 'dispatcher');
    const rotated = await inject(gw, 'POST', '/v1/keys/rotate', { auth: tenant.secretKey, body: { kind: 'secret' } });
    expect(rotated.status).toBe(200);
    // In-process caches are per gateway; this test's gateway dropped them on rotate.
    const oldKey = await inject(gw, 'GET', '/v1/tickets', { auth: tenant.secretKey });
    expect(oldKey.body.error.code).toBe('CL_ERR_INVALID_KEY');
    const oldToken = await inject(gw, 'GET', '/v1/tickets', { auth: token });
    expect(oldToken.body.error.code).toBe('CL_ERR_TOKEN_INVALID');
    const fresh = await inject(gw, 'GET', '/v1/tickets', { auth: rotated.body.key });
    expect(fresh.status).toBe(200);
  });

  it('stores keys hashed: no raw key appears anywhere in Redis', async () => {
    const keys = await gw.redis.client.keys('*');
    for (const key of keys) {
      expect(key).not.toContain(gw.tenant.secretKey.split('.')[1]!);
      const type = await gw.redis.client.type(key);
      const dump = type === 'string' ? await gw.redis.client.get(key) : type === 'hash' ? JSON.stringify(await gw.redis.client.hgetall(key)) : '';
      expect(dump ?? '').not.toContain(gw.tenant.secretKey.split('.')[1]!);
      expect(dump ?? '').not.toContain(gw.tenant.publishableKey.split('.')[1]!);
    }
  });
});
