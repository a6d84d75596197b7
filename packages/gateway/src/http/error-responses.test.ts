import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

const PORTAL = 'https://portal.example.org';

describe('error responses a browser can read', () => {
  it("lets an allowed page read every error: 401, 403, 404, 429, fastify's own, each with a CL_ERR code", async () => {
    const tenant = await gw.createTenant('E');
    await gw.services.tenants.updatePolicy(tenant.id, { allowedOrigins: [PORTAL] });
    const fromPortal = { origin: PORTAL };
    const expired = await tenant.token('resident-1', 'citizen', { ttlSeconds: 60 });
    const [header, payload, signature] = expired.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString('base64url'), signature].join('.');
    const resident = await tenant.token('resident-1', 'citizen');
    const cases: [string, Promise<{ status: number; headers: Headers; body: any }>, number, string][] = [
      ['no credentials', inject(gw, 'GET', '/v1/tickets', { headers: fromPortal }), 401, 'CL_ERR_UNAUTHENTICATED'],
      ['an unknown key of the tenant', inject(gw, 'GET', '/v1/tickets', { key: `cl_pk_${tenant.id}.nope`, headers: fromPortal }), 401, 'CL_ERR_INVALID_KEY'],
      [
        'a token altered after signing',
        inject(gw, 'GET', '/v1/tickets', { auth: tampered, key: tenant.publishableKey, headers: fromPortal }),
        401,
        'CL_ERR_TOKEN_INVALID',
      ],
      ['a role that may not', inject(gw, 'GET', '/v1/units', { auth: resident, key: tenant.publishableKey, headers: fromPortal }), 403, 'CL_ERR_FORBIDDEN'],
      [
        'no such ticket',
        inject(gw, 'GET', '/v1/tickets/tk_nope', { auth: resident, key: tenant.publishableKey, headers: fromPortal }),
        404,
        'CL_ERR_NOT_FOUND',
      ],
      ['no such route', inject(gw, 'GET', '/v1/nowhere', { headers: fromPortal }), 404, 'CL_ERR_ROUTE_NOT_FOUND'],
      [
        'a URL that is not validly encoded',
        inject(gw, 'GET', '/v1/tickets/%E0%A4%A', { auth: resident, key: tenant.publishableKey, headers: fromPortal }),
        400,
        'CL_ERR_VALIDATION',
      ],
      [
        'an over-long path parameter',
        inject(gw, 'GET', `/v1/tickets/${'x'.repeat(300)}`, { auth: resident, key: tenant.publishableKey, headers: fromPortal }),
        400,
        'CL_ERR_VALIDATION',
      ],
      [
        'a bad query',
        inject(gw, 'GET', '/v1/tickets?limit=lots', { auth: resident, key: tenant.publishableKey, headers: fromPortal }),
        400,
        'CL_ERR_VALIDATION',
      ],
    ];
    for (const [what, response, status, code] of cases) {
      const res = await response;
      expect(res.status, what).toBe(status);
      expect(res.body?.error?.code, what).toBe(code);
      expect(res.headers.get('access-control-allow-origin'), what).toBe(PORTAL);
      expect(res.headers.get('access-control-expose-headers'), what).toContain('retry-after');
    }
    // An origin the tenant does not list still cannot read its refusal, nor any other error.
    const evil = await inject(gw, 'GET', '/v1/tickets/tk_nope', { auth: resident, key: tenant.publishableKey, headers: { origin: 'https://evil.example' } });
    expect(evil.body.error.code).toBe('CL_ERR_ORIGIN_NOT_ALLOWED');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const evilBadUrl = await inject(gw, 'GET', '/v1/tickets/%E0%A4%A', {
      auth: resident,
      key: tenant.publishableKey,
      headers: { origin: 'https://evil.example' },
    });
    expect(evilBadUrl.status).toBe(400);
    expect(evilBadUrl.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers malformed HTTP with a CL_ERR body', async () => {
    const port = Number(new URL(gw.url).port);
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(raw).toMatch(/^HTTP\/1.1 400/);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).toBe('CL_ERR_VALIDATION');
  });
});
