import { signToken } from '@civicloop/model';
import { CivicLoop } from '@civicloop/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';
import { twoPartners, type PartnerFixture } from '@civicloop/test-support/partners.js';

let gw: TestGateway;
let a: PartnerFixture;
let b: PartnerFixture;
beforeAll(async () => {
  gw = await startTestGateway();
  [a, b] = await twoPartners(gw);
});
afterAll(async () => gw?.close());

const ids = (body: { items: { id: string }[] }) => body.items.map((t) => t.id);

describe('partners: keys of their own', () => {
  it('two platforms\' "flat-1201" are two residents: each sees its own report only', async () => {
    expect(a.ticket.reporter.sub).toBe(`partner:${a.id}:flat-1201`);
    expect(b.ticket.reporter.sub).toBe(`partner:${b.id}:flat-1201`);
    expect(a.ticket.partnerId).toBe(a.id);
    const mineA = await inject(gw, 'GET', '/v1/tickets', { auth: a.resident, key: a.keys.publishableKey });
    expect(ids(mineA.body)).toEqual([a.ticket.id]);
    const mineB = await inject(gw, 'GET', '/v1/tickets', { auth: b.resident });
    expect(ids(mineB.body)).toEqual([b.ticket.id]);
    const other = await inject(gw, 'GET', `/v1/tickets/${b.ticket.id}`, { auth: a.resident });
    expect(other.status).toBe(404);
    // The tenant's own resident "flat-1201" is a third person.
    const own = await gw.tenant.token('flat-1201', 'citizen');
    expect(ids((await inject(gw, 'GET', '/v1/tickets', { auth: own })).body)).toEqual([]);
  });

  it("a partner's server reads its residents' tickets and nothing else", async () => {
    const list = await inject(gw, 'GET', '/v1/tickets', { auth: a.keys.secretKey });
    expect(list.status).toBe(200);
    expect(ids(list.body)).toEqual([a.ticket.id]);
    const own = await inject(gw, 'GET', `/v1/tickets/${a.ticket.id}`, { auth: a.keys.secretKey });
    expect(own.status).toBe(200);
    // Its own resident's contact: the platform knows its residents.
    expect(own.body.reporter.contact).toBe('13800000000');
    for (const path of [`/v1/tickets/${b.ticket.id}`, `/v1/tickets/by-number/${b.ticket.number}`, `/v1/tickets/${b.ticket.id}/history`]) {
      const res = await inject(gw, 'GET', path, { auth: a.keys.secretKey });
      expect(res.status, path).toBe(404);
    }
    // The tenant sees both.
    expect(ids((await inject(gw, 'GET', '/v1/tickets', { auth: gw.tenant.secretKey })).body)).toEqual(expect.arrayContaining([a.ticket.id, b.ticket.id]));
  });

  it('cannot mint staff tokens, change policy, rotate the tenant keys or manage partners', async () => {
    for (const role of ['admin', 'dispatcher', 'worker', 'supervisor', 'steward'] as const) {
      const staff = await signToken({ secretKey: a.keys.secretKey, sub: 'mallory', role });
      const res = await inject(gw, 'GET', '/v1/tickets', { auth: staff });
      expect(res.status, role).toBe(403);
      expect(res.body.error.code).toBe('CL_ERR_PARTNER_SCOPE');
    }
    const attempts: [string, string, unknown][] = [
      ['PATCH', '/v1/tenant/policy', { publicReads: true }],
      ['POST', '/v1/keys/rotate', { kind: 'secret' }],
      ['POST', '/v1/partners', { name: 'Another' }],
      ['GET', '/v1/partners', undefined],
      ['PATCH', `/v1/partners/${a.id}`, { zones: [a.zoneId, b.zoneId] }],
      ['DELETE', `/v1/partners/${b.id}`, undefined],
      ['POST', `/v1/tickets/${a.ticket.id}/dispatch`, { unitId: 'sanitation' }],
      [
        'POST',
        '/v1/zones',
        {
          id: 'x',
          name: 'x',
          type: 'grid',
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [113, 23],
                [113.1, 23],
                [113.1, 23.1],
                [113, 23],
              ],
            ],
          },
        },
      ],
      ['GET', '/v1/staff', undefined],
      ['POST', '/v1/tickets', BIN_REPORT],
    ];
    for (const [method, path, body] of attempts) {
      const res = await inject(gw, method, path, { auth: a.keys.secretKey, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code, `${method} ${path}`).toBe('CL_ERR_PARTNER_SCOPE');
    }
    // Rotating another partner's keys: that partner does not exist for it.
    const rotate = await inject(gw, 'POST', `/v1/partners/${b.id}/keys/rotate`, { auth: a.keys.secretKey, body: { kind: 'secret' } });
    expect(rotate.status).toBe(404);
    const still = await inject(gw, 'GET', '/v1/tickets', { auth: b.keys.secretKey });
    expect(still.status).toBe(200);
    // The tenant's policy is as it was.
    const me = await inject(gw, 'GET', '/v1/me', { auth: gw.tenant.secretKey });
    expect(me.body.tenant.policy.publicReads).not.toBe(true);
  });

  it('a tenant token cannot pass for a partner resident, nor mix with a partner publishable key', async () => {
    await expect(signToken({ secretKey: gw.tenant.secretKey, sub: `partner:${a.id}:flat-1201`, role: 'citizen' })).rejects.toThrow(/partner:/);
    // Signed by hand, past the SDK's check: the gateway refuses the reserved subject too.
    const { signWithTokenKey, deriveTokenKey } = await import('@civicloop/model');
    const forged = await signWithTokenKey({
      tokenKey: await deriveTokenKey(gw.tenant.secretKey),
      tenantId: gw.tenant.id,
      sub: `partner:${a.id}:flat-1201`,
      role: 'citizen',
    });
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: forged })).status).toBe(401);
    const tenantResident = await gw.tenant.token('flat-9', 'citizen');
    const mixed = await inject(gw, 'GET', '/v1/tickets', { auth: tenantResident, key: a.keys.publishableKey });
    expect(mixed.status).toBe(401);
    const crossed = await inject(gw, 'GET', '/v1/tickets', { auth: b.resident, key: a.keys.publishableKey });
    expect(crossed.status).toBe(401);
    expect(crossed.body.error.code).toBe('CL_ERR_TOKEN_INVALID');
    const partnerWithTenantKey = await inject(gw, 'GET', '/v1/tickets', { auth: a.resident, key: gw.tenant.publishableKey });
    expect(partnerWithTenantKey.status).toBe(401);
  });

  it("lists only its estates' zones", async () => {
    const list = await inject(gw, 'GET', '/v1/zones', { auth: a.keys.secretKey });
    expect(list.status).toBe(200);
    expect(list.body.items.map((z: { id: string }) => z.id)).toEqual([a.zoneId]);
    expect((await inject(gw, 'GET', `/v1/zones/${b.zoneId}`, { auth: a.keys.secretKey })).status).toBe(404);
    expect((await inject(gw, 'GET', `/v1/zones/${a.zoneId}`, { auth: a.keys.secretKey })).status).toBe(200);
    // The tenant changes its estates: the list follows.
    const changed = await inject(gw, 'PATCH', `/v1/partners/${a.id}`, { auth: gw.tenant.secretKey, body: { zones: [a.zoneId, b.zoneId] } });
    expect(changed.body.zones).toEqual([a.zoneId, b.zoneId]);
    expect((await inject(gw, 'GET', '/v1/zones', { auth: a.keys.secretKey })).body.items).toHaveLength(2);
    await inject(gw, 'PATCH', `/v1/partners/${a.id}`, { auth: gw.tenant.secretKey, body: { zones: [a.zoneId] } });
    const unknown = await inject(gw, 'PATCH', `/v1/partners/${a.id}`, { auth: gw.tenant.secretKey, body: { zones: ['no-such-zone'] } });
    expect(unknown.status).toBe(400);
    expect((await inject(gw, 'GET', `/v1/partners/${a.id}`, { auth: gw.tenant.secretKey })).body.zones).toEqual([a.zoneId]);
  });

  it("knows who it is (GET /v1/me) and reads its own record, not another partner's", async () => {
    const me = await inject(gw, 'GET', '/v1/me', { auth: a.resident, key: a.keys.publishableKey });
    expect(me.body.actor).toMatchObject({ sub: `partner:${a.id}:flat-1201`, role: 'citizen' });
    expect(me.body.partner).toMatchObject({ id: a.id, name: 'Sunny Gardens Property' });
    const server = await inject(gw, 'GET', '/v1/me', { auth: a.keys.secretKey });
    expect(server.body.actor).toMatchObject({ sub: `partner:${a.id}`, role: 'partner' });
    expect((await inject(gw, 'GET', `/v1/partners/${a.id}`, { auth: a.keys.secretKey })).status).toBe(200);
    expect((await inject(gw, 'GET', `/v1/partners/${b.id}`, { auth: a.keys.secretKey })).status).toBe(404);
  });

  it("anonymous residents through a partner's publishable key are that partner's", async () => {
    const started = await inject(gw, 'POST', '/v1/residents/anonymous', { key: a.keys.publishableKey });
    expect(started.status).toBe(201);
    const report = await inject(gw, 'POST', '/v1/tickets', {
      auth: started.body.token,
      key: a.keys.publishableKey,
      body: { ...BIN_REPORT, channel: 'widget' },
    });
    expect(report.status).toBe(201);
    expect(report.body.partnerId).toBe(a.id);
    expect(report.body.reporter.sub).toBe(`partner:${a.id}:${started.body.residentId}`);
    expect(ids((await inject(gw, 'GET', '/v1/tickets', { auth: a.keys.secretKey })).body)).toContain(report.body.id);
    expect(ids((await inject(gw, 'GET', '/v1/tickets', { auth: b.keys.secretKey })).body)).not.toContain(report.body.id);
    // A report with the publishable key alone (no identity) is the partner's too.
    const bare = await inject(gw, 'POST', '/v1/tickets', { key: b.keys.publishableKey, body: { ...BIN_REPORT, channel: 'widget' } });
    expect(bare.status).toBe(201);
    expect(bare.body.partnerId).toBe(b.id);
    expect(ids((await inject(gw, 'GET', '/v1/tickets', { auth: b.keys.secretKey })).body)).toContain(bare.body.id);
  });

  it('posts Open311 requests with its key (they are its own) and prints entry codes for its pages', async () => {
    const form = new URLSearchParams({
      jurisdiction_id: gw.tenant.code,
      api_key: b.keys.secretKey,
      service_code: 'sanitation.bin_overflow',
      lat: '23.1291',
      long: '113.3244',
      description: 'Posted by an Open311 client of B',
    });
    const posted = await fetch(`${gw.url}/open311/v2/requests.json`, { method: 'POST', body: form });
    expect(posted.status).toBe(200);
    const [{ service_request_id: number }] = (await posted.json()) as [{ service_request_id: string }];
    const seen = await inject(gw, 'GET', `/v1/tickets/by-number/${number}`, { auth: b.keys.secretKey });
    expect(seen.status).toBe(200);
    expect(seen.body.partnerId).toBe(b.id);
    expect((await inject(gw, 'GET', `/v1/tickets/by-number/${number}`, { auth: a.keys.secretKey })).status).toBe(404);

    await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: ['https://portal.sunny.example'] });
    const query = new URLSearchParams({ page: 'https://portal.sunny.example/report', lat: '23.1291', lon: '113.2644', name: 'Building 3' });
    const code = await fetch(`${gw.url}/v1/entry-codes/report.svg?${query}`, { headers: { authorization: `Bearer ${a.keys.secretKey}` } });
    expect(code.status).toBe(200);
    expect(await code.text()).toContain('<svg');
  });

  it("the SDK works unchanged with a partner's keys", async () => {
    const client = new CivicLoop({
      baseUrl: gw.url,
      apiKey: a.keys.publishableKey,
      token: () => signToken({ secretKey: a.keys.secretKey, sub: 'flat-808', role: 'citizen' }),
    });
    const ticket = await client.tickets.create({ ...BIN_REPORT, channel: 'widget' });
    expect(ticket.partnerId).toBe(a.id);
    expect((await client.tickets.list()).items.map((t) => t.id)).toEqual([ticket.id]);
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: a.keys.secretKey });
    expect((await server.tickets.get(ticket.id)).id).toBe(ticket.id);
  });

  it("rotates its own keys: its old keys and tokens stop, nobody else's do", async () => {
    const fresh = await inject(gw, 'POST', '/v1/partners', { auth: gw.tenant.secretKey, body: { name: 'Rotating Property' } });
    const { partner, secretKey, publishableKey } = fresh.body;
    const oldToken = await signToken({ secretKey, sub: 'flat-1', role: 'citizen' });
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: oldToken })).status).toBe(200);
    const rotated = await inject(gw, 'POST', `/v1/partners/${partner.id}/keys/rotate`, { auth: secretKey, body: { kind: 'secret' } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(new RegExp(`^cl_sk_${gw.tenant.id}\\.`));
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: secretKey })).status).toBe(401);
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: oldToken })).status).toBe(401);
    const newToken = await signToken({ secretKey: rotated.body.key, sub: 'flat-1', role: 'citizen' });
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: newToken })).status).toBe(200);
    // The publishable key was not touched; the tenant's and the other partners' keys all still work.
    expect((await inject(gw, 'POST', '/v1/residents/anonymous', { key: publishableKey })).status).toBe(201);
    for (const key of [gw.tenant.secretKey, a.keys.secretKey, b.keys.secretKey])
      expect((await inject(gw, 'GET', '/v1/tickets', { auth: key })).status).toBe(200);
    expect((await inject(gw, 'GET', '/v1/tickets', { auth: a.resident })).status).toBe(200);
    // And a tenant rotation leaves partners' keys alone.
    const tenantRotation = await inject(gw, 'POST', '/v1/keys/rotate', { auth: gw.tenant.secretKey, body: { kind: 'publishable' } });
    expect(tenantRotation.status).toBe(200);
    expect((await inject(gw, 'POST', '/v1/residents/anonymous', { key: publishableKey })).status).toBe(201);
    expect((await inject(gw, 'POST', '/v1/residents/anonymous', { key: gw.tenant.publishableKey })).status).toBe(401);
    gw.tenant.publishableKey = tenantRotation.body.key;
  });

  it('a disabled partner: keys and tokens refused, webhooks gone, its tickets stay with the tenant', async () => {
    const fresh = (await inject(gw, 'POST', '/v1/partners', { auth: gw.tenant.secretKey, body: { name: 'Leaving Property' } })).body;
    const resident = await signToken({ secretKey: fresh.secretKey, sub: 'flat-2', role: 'citizen' });
    const ticket = (await inject(gw, 'POST', '/v1/tickets', { auth: resident, key: fresh.publishableKey, body: { ...BIN_REPORT, channel: 'widget' } })).body;
    const hook = await inject(gw, 'POST', '/v1/webhooks', { auth: fresh.secretKey, body: { url: 'https://hooks.example.org/leaving' } });
    expect(hook.status).toBe(201);
    expect(hook.body.partnerId).toBe(fresh.partner.id);
    const disabled = await inject(gw, 'DELETE', `/v1/partners/${fresh.partner.id}`, { auth: gw.tenant.secretKey });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabledAt).toEqual(expect.any(String));
    for (const [auth, key] of [
      [fresh.secretKey, undefined],
      [resident, undefined],
      [undefined, fresh.publishableKey],
    ] as const) {
      const res = await inject(gw, 'GET', '/v1/tickets', { ...(auth ? { auth } : {}), ...(key ? { key } : {}) });
      expect(res.status).toBe(401);
    }
    const hooks = await inject(gw, 'GET', '/v1/webhooks', { auth: gw.tenant.secretKey });
    expect(hooks.body.items.map((w: { id: string }) => w.id)).not.toContain(hook.body.id);
    expect((await inject(gw, 'GET', `/v1/tickets/${ticket.id}`, { auth: gw.tenant.secretKey })).body.partnerId).toBe(fresh.partner.id);
    const again = await inject(gw, 'POST', `/v1/partners/${fresh.partner.id}/keys/rotate`, { auth: gw.tenant.secretKey, body: { kind: 'secret' } });
    expect(again.status).toBe(404);
  });
});
