import { SignJWT } from 'jose';
import { signToken } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, snapshotRedis, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let dispatcher: string;
let reportedId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
  const created = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
  reportedId = created.body.id;
});
afterAll(async () => gw?.close());

/** Sends a request that must fail with `code` and leave every key in Redis as it was. */
async function refusedUnchanged(code: string, status: number, send: () => Promise<{ status: number; body: any }>) {
  const before = await snapshotRedis(gw.redis.client);
  const res = await send();
  expect(res.body?.error?.code, JSON.stringify(res.body)).toBe(code);
  expect(res.status).toBe(status);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(10);
  expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  return res;
}

const create = (body: unknown, extra: { rawBody?: string; headers?: Record<string, string> } = {}) =>
  inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body, ...extra });

describe('bad input is refused with a CL_ERR code and writes nothing', () => {
  it('wrong types', async () => {
    const res = await refusedUnchanged('CL_ERR_VALIDATION', 400, () => create({ ...BIN_REPORT, description: 42, location: { lat: '23.1', lon: 113.2 } }));
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['/description', '/location/lat']));
  });

  it('unknown category', async () => {
    const res = await refusedUnchanged('CL_ERR_UNKNOWN_CATEGORY', 422, () => create({ ...BIN_REPORT, category: 'sanitation.unicorns' }));
    expect(res.body.error.message).toContain('/v1/categories');
  });

  it('missing location', async () => {
    const { location: _omit, ...noLocation } = BIN_REPORT;
    const res = await refusedUnchanged('CL_ERR_VALIDATION', 400, () => create(noLocation));
    expect(res.body.error.message).toContain('location');
  });

  it('latitude 91', async () => {
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => create({ ...BIN_REPORT, location: { lat: 91, lon: 113.2 } }));
  });

  it('a 5 MB description', async () => {
    await refusedUnchanged('CL_ERR_PAYLOAD_TOO_LARGE', 413, () => create({ ...BIN_REPORT, description: 'x'.repeat(5 * 1024 * 1024) }));
  });

  it('a description over 4000 characters within the body limit', async () => {
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => create({ ...BIN_REPORT, description: 'x'.repeat(4001) }));
  });

  it('unknown fields', async () => {
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => create({ ...BIN_REPORT, reporterId: 'someone-else' }));
  });

  it('malformed JSON', async () => {
    await refusedUnchanged('CL_ERR_BAD_JSON', 400, () => create(undefined, { rawBody: '{"category": ' }));
  });

  it('a state transition the ticket is not in a state for', async () => {
    const res = await refusedUnchanged('CL_ERR_INVALID_TRANSITION', 409, () =>
      inject(gw, 'POST', `/v1/tickets/${reportedId}/resolve`, { auth: gw.tenant.secretKey, body: { photos: [{ ref: 'https://photos.example.org/x.jpg' }] } }),
    );
    expect(res.body.error.details).toMatchObject({ status: 'reported', command: 'resolve' });
  });

  it('a command that does not exist', async () => {
    await refusedUnchanged('CL_ERR_ROUTE_NOT_FOUND', 404, () => inject(gw, 'POST', `/v1/tickets/${reportedId}/teleport`, { auth: dispatcher, body: {} }));
  });

  it('resolve without an after-photo', async () => {
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => inject(gw, 'POST', `/v1/tickets/${reportedId}/resolve`, { auth: gw.tenant.secretKey, body: {} }));
  });

  it('dispatch to a unit that does not exist, or to someone outside the unit', async () => {
    await refusedUnchanged('CL_ERR_UNKNOWN_UNIT', 422, () =>
      inject(gw, 'POST', `/v1/tickets/${reportedId}/dispatch`, { auth: dispatcher, body: { unitId: 'nope' } }),
    );
    await refusedUnchanged('CL_ERR_STAFF_NOT_IN_UNIT', 422, () =>
      inject(gw, 'POST', `/v1/tickets/${reportedId}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-3' } }),
    );
    await refusedUnchanged('CL_ERR_UNKNOWN_STAFF', 422, () =>
      inject(gw, 'POST', `/v1/tickets/${reportedId}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation', assigneeId: 'w-nobody' } }),
    );
  });

  it('dispatch to a unit that was deactivated', async () => {
    expect((await inject(gw, 'POST', '/v1/units', { auth: gw.tenant.secretKey, body: { id: 'disbanded', name: 'Disbanded crew' } })).status).toBe(201);
    expect((await inject(gw, 'PATCH', '/v1/units/disbanded', { auth: gw.tenant.secretKey, body: { active: false } })).status).toBe(200);
    await refusedUnchanged('CL_ERR_UNKNOWN_UNIT', 422, () =>
      inject(gw, 'POST', `/v1/tickets/${reportedId}/dispatch`, { auth: dispatcher, body: { unitId: 'disbanded' } }),
    );
  });

  it('a dispatch of a ticket that does not exist is refused for that first, whatever its unit', async () => {
    await refusedUnchanged('CL_ERR_NOT_FOUND', 404, () =>
      inject(gw, 'POST', '/v1/tickets/tk_00000000000000000000000000000000/dispatch', { auth: dispatcher, body: { unitId: 'nope', assigneeId: 'w-nobody' } }),
    );
  });

  it('an expired token', async () => {
    const old = await signToken({ secretKey: gw.tenant.secretKey, sub: 'disp-1', role: 'dispatcher', ttlSeconds: 60, now: new Date(Date.now() - 3600_000) });
    await refusedUnchanged('CL_ERR_TOKEN_EXPIRED', 401, () => inject(gw, 'POST', '/v1/tickets', { auth: old, body: BIN_REPORT }));
  });

  it('a forged token: right shape, signed with a key that is not the tenant secret', async () => {
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'whatever' })
      .setIssuer(gw.tenant.id)
      .setSubject('attacker')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-32b'));
    await refusedUnchanged('CL_ERR_TOKEN_INVALID', 401, () => inject(gw, 'POST', '/v1/tickets', { auth: forged, body: BIN_REPORT }));
  });

  it('a token whose payload was altered after signing', async () => {
    const real = await gw.tenant.token('resident-9', 'citizen');
    const [header, payload, signature] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url'), signature].join('.');
    await refusedUnchanged('CL_ERR_TOKEN_INVALID', 401, () => inject(gw, 'GET', '/v1/units', { auth: tampered }));
  });

  it('a token that lives longer than allowed', async () => {
    const long = await gw.tenant.token('disp-1', 'dispatcher', { ttlSeconds: 30 * 86400 });
    await refusedUnchanged('CL_ERR_TOKEN_TOO_LONG_LIVED', 401, () => inject(gw, 'POST', '/v1/tickets', { auth: long, body: BIN_REPORT }));
  });

  it('no credentials, an unknown key, a malformed Idempotency-Key', async () => {
    await refusedUnchanged('CL_ERR_UNAUTHENTICATED', 401, () => inject(gw, 'POST', '/v1/tickets', { body: BIN_REPORT }));
    await refusedUnchanged('CL_ERR_INVALID_KEY', 401, () => inject(gw, 'POST', '/v1/tickets', { auth: `cl_sk_${gw.tenant.id}.bogus`, body: BIN_REPORT }));
    await refusedUnchanged('CL_ERR_IDEMPOTENCY_KEY_INVALID', 400, () => create(BIN_REPORT, { headers: { 'idempotency-key': 'short' } }));
  });

  it('a bad list query and a bad cursor', async () => {
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => inject(gw, 'GET', '/v1/tickets?status=flying', { auth: gw.tenant.secretKey }));
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => inject(gw, 'GET', '/v1/tickets?cursor=garbage', { auth: gw.tenant.secretKey }));
    await refusedUnchanged('CL_ERR_VALIDATION', 400, () => inject(gw, 'GET', '/v1/tickets?limit=5000', { auth: gw.tenant.secretKey }));
  });

  it('keeps serving after all of that', async () => {
    const ok = await create(BIN_REPORT);
    expect(ok.status).toBe(201);
  });
});
