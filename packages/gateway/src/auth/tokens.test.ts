import { deriveTokenKey, signToken, signWithTokenKey } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

/** A token signed with the tenant's real key but claims no honest signer would make. */
async function craft(sub: string, extra: { now?: Date; anonymous?: boolean } = {}) {
  return signWithTokenKey({ tokenKey: await deriveTokenKey(gw.tenant.secretKey), tenantId: gw.tenant.id, sub, role: 'citizen', ttlSeconds: 600, ...extra });
}

describe('tokens', () => {
  it('refuses a token issued in the future beyond a minute of clock skew', async () => {
    const ahead = await craft('resident-7', { now: new Date(Date.now() + 10 * 60_000) });
    const refused = await inject(gw, 'GET', '/v1/tickets', { auth: ahead });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'CL_ERR_TOKEN_INVALID', message: expect.stringContaining('future') });
    const slightlyAhead = await craft('resident-7', { now: new Date(Date.now() + 30_000) });
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: slightlyAhead })).status).toBe(200);
  });

  it('refuses subjects that would collide with built-in principals, so a resident called "public" sees no anonymous report', async () => {
    const anonymous = await inject(gw, 'POST', '/v1/tickets', { key: gw.tenant.publishableKey, body: BIN_REPORT });
    expect(anonymous.body.reporter).toMatchObject({ sub: 'public', role: 'public' });
    for (const sub of ['public', 'open311', 'key:k_abc', 'system:router', 'device:b_1', 'anon:AAAAAAAAAAAAAAAA']) {
      const token = await craft(sub);
      const res = await inject(gw, 'GET', `/v1/tickets/${anonymous.body.id}`, { auth: token });
      expect(res.status, sub).toBe(401);
      expect(res.body.error.code, sub).toBe('CL_ERR_TOKEN_INVALID');
    }
    // The SDK refuses to sign them in the first place.
    await expect(signToken({ secretKey: gw.tenant.secretKey, sub: 'public', role: 'citizen' })).rejects.toThrow(/built-in principal/);
    // The gateway's own anonymous-resident tokens still work.
    const identity = await inject(gw, 'POST', '/v1/residents/anonymous', { key: gw.tenant.publishableKey });
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: identity.body.token, key: gw.tenant.publishableKey })).status).toBe(200);
    // Nor can staff be created under such a name.
    const staff = await inject(gw, 'POST', '/v1/staff', { auth: gw.tenant.secretKey, body: { id: 'public', name: 'Not allowed', role: 'worker' } });
    expect(staff.body.error.code).toBe('CL_ERR_VALIDATION');
  });
});
