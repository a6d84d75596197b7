import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('anonymous residents', () => {
  it('get a browser-bound identity that sees its own reports, renewable with its secret', async () => {
    const first = await inject(gw, 'POST', '/v1/residents/anonymous', { key: gw.tenant.publishableKey });
    expect(first.status).toBe(201);
    expect(first.body.residentId).toMatch(/^anon:/);
    const other = await inject(gw, 'POST', '/v1/residents/anonymous', { key: gw.tenant.publishableKey });

    const mine = await inject(gw, 'POST', '/v1/tickets', {
      key: gw.tenant.publishableKey,
      auth: first.body.token,
      body: { ...BIN_REPORT, channel: 'widget' },
    });
    expect(mine.status).toBe(201);
    expect(mine.body.reporter).toMatchObject({ sub: first.body.residentId, role: 'citizen' });

    const renewed = await inject(gw, 'POST', '/v1/residents/anonymous/token', {
      key: gw.tenant.publishableKey,
      body: { residentId: first.body.residentId, deviceSecret: first.body.deviceSecret },
    });
    expect(renewed.status).toBe(200);
    const list = await inject(gw, 'GET', '/v1/tickets', { key: gw.tenant.publishableKey, auth: renewed.body.token });
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([mine.body.id]);
    const theirs = await inject(gw, 'GET', '/v1/tickets', { key: gw.tenant.publishableKey, auth: other.body.token });
    expect(theirs.body.items).toEqual([]);

    const stolen = await inject(gw, 'POST', '/v1/residents/anonymous/token', {
      key: gw.tenant.publishableKey,
      body: { residentId: first.body.residentId, deviceSecret: other.body.deviceSecret },
    });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.code).toBe('CL_ERR_TOKEN_INVALID');
  });

  it('needs the publishable key, and only that', async () => {
    expect((await inject(gw, 'POST', '/v1/residents/anonymous', {})).status).toBe(401);
    expect((await inject(gw, 'POST', '/v1/residents/anonymous', { auth: gw.tenant.secretKey })).status).toBe(403);
  });
});
