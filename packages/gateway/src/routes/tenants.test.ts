import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotRedis, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ operatorToken: 'operator' });
});
afterAll(async () => gw?.close());

describe('tenant policy', () => {
  it('refuses unknown policy fields at creation, as the policy update does, writing nothing', async () => {
    const before = await snapshotRedis(gw.redis.client);
    const created = await inject(gw, 'POST', '/v1/tenants', {
      auth: 'operator',
      body: { code: 'POL', name: 'Policy', policy: { timeZone: 'Asia/Shanghai', publicRead: true } },
    });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringContaining('publicRead') });
    const unknownCategory = await inject(gw, 'POST', '/v1/tenants', {
      auth: 'operator',
      body: { code: 'POL', name: 'Policy', policy: { categoryVisibility: { 'sanitation.unicorns': 'public' } } },
    });
    expect(unknownCategory.body.error.code).toBe('CL_ERR_VALIDATION');
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
    const patched = await inject(gw, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { publicRead: true } });
    expect(patched.body.error.code).toBe('CL_ERR_VALIDATION');
  });

  it("publishes nothing by default, and keeps a worker's SOS and personal matters private unless the tenant says otherwise", async () => {
    const created = await inject(gw, 'POST', '/v1/tenants', { auth: 'operator', body: { code: 'PUB', name: 'Publishing' } });
    expect(created.body.tenant.policy).toMatchObject({ publicReads: false, categoryVisibility: {} });
    const categories = (await inject(gw, 'GET', '/v1/categories', { key: created.body.publishableKey })).body.categories as {
      code: string;
      private: boolean;
    }[];
    expect(
      categories
        .filter((c) => c.private)
        .map((c) => c.code)
        .sort(),
    ).toEqual(['other.personal', 'other.worker_sos']);
    const patched = await inject(gw, 'PATCH', '/v1/tenant/policy', {
      auth: created.body.secretKey,
      body: { publicReads: true, categoryVisibility: { 'order.noise': 'private' } },
    });
    expect(patched.body.policy).toMatchObject({ publicReads: true, categoryVisibility: { 'order.noise': 'private' } });
  });
});
