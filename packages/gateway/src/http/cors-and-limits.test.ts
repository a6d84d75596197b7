import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';

// The limits count per minute of the gateway's clock, which the limits test moves to a minute's start.
const clock = new MinuteClock();
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ rateLimitPerKey: 5, rateLimitPerAddress: 12 }, { now: clock.now });
});
afterAll(async () => gw?.close());

const PORTAL = 'https://portal.example.org';

describe('CORS', () => {
  it("answers preflights, and lets a page call only from the tenant's allowed origins", async () => {
    const preflight = await fetch(`${gw.url}/v1/tickets`, {
      method: 'OPTIONS',
      headers: { origin: PORTAL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-civicloop-key, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-civicloop-key');
    // Every method the API has, DELETE included (an admin page removing a zone or a webhook).
    expect(preflight.headers.get('access-control-allow-methods')!.split(', ').sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'PATCH', 'POST']);

    const refused = await api(gw.url, 'GET', '/v1/categories', { key: gw.tenant.publishableKey, headers: { origin: PORTAL } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('CL_ERR_ORIGIN_NOT_ALLOWED');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const policy = await api(gw.url, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { allowedOrigins: [PORTAL] } });
    expect(policy.body.policy.allowedOrigins).toEqual([PORTAL]);
    const allowed = await api(gw.url, 'GET', '/v1/categories', { key: gw.tenant.publishableKey, headers: { origin: PORTAL } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(PORTAL);
    const other = await api(gw.url, 'GET', '/v1/categories', { key: gw.tenant.publishableKey, headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(403);

    // The event stream is written past fastify's reply; it must carry the CORS headers all the same.
    const controller = new AbortController();
    const stream = await fetch(`${gw.url}/v1/events`, {
      headers: { authorization: `Bearer ${gw.tenant.secretKey}`, origin: PORTAL, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('access-control-allow-origin')).toBe(PORTAL);
    controller.abort();
  });

  it('refuses a bad origin list', async () => {
    const bad = await api(gw.url, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { allowedOrigins: ['portal.example.org/path'] } });
    expect(bad.body.error.code).toBe('CL_ERR_VALIDATION');
  });
});

describe('rate limits', () => {
  it('limits each key, then each address, with Retry-After', async () => {
    clock.startMinute();
    const tenant = await gw.createTenant('L');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api(gw.url, 'GET', '/v1/units', { auth: tenant.secretKey })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    await gw.services.tenants.updatePolicy(tenant.id, { allowedOrigins: [PORTAL] });
    const limited = await api(gw.url, 'GET', '/v1/units', { auth: tenant.secretKey, headers: { origin: PORTAL } });
    expect(limited.body.error.code).toBe('CL_ERR_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // A page may read the refusal and its Retry-After.
    expect(limited.headers.get('access-control-allow-origin')).toBe(PORTAL);
    // Another key from the same address still has room, until the address limit.
    const other = await gw.createTenant('M');
    const more: number[] = [];
    for (let i = 0; i < 6; i++) more.push((await api(gw.url, 'GET', '/v1/units', { auth: other.secretKey })).status);
    expect(more.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(more.at(-1)).toBe(429);
  });
});
