import mqtt from 'mqtt';
import { signToken } from '@civicloop/model';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';

// Two gateways on one Redis, behind a proxy that says who the client is, on one clock that each
// test moves to the start of a minute: the limits count per minute of it.
const clock = new MinuteClock();
let redis: TestRedis;
let one: TestGateway;
let two: TestGateway;
const LIMITS = { rateLimitAuthFailuresPerAddress: 6, rateLimitKeylessPerAddress: 10, trustProxy: true };
beforeAll(async () => {
  redis = await startTestRedis();
  one = await startTestGateway(LIMITS, { redis, telemetry: true, now: clock.now });
  two = await startTestGateway(LIMITS, { redis, now: clock.now });
});
beforeEach(() => clock.startMinute());
afterAll(async () => {
  await one?.close();
  await two?.close();
  await redis?.stop();
});

const from = (address: string) => ({ 'x-forwarded-for': address });

describe('per-address limits shared by every gateway', () => {
  it('counts failed authentications across gateways, then answers 429 with Retry-After until the minute ends', async () => {
    const attacker = from('203.0.113.7');
    // A resident's browser and a server share the address (a carrier's, an office's): both were
    // verified by gateway one before the guessing starts.
    const resident = { auth: await one.tenant.token('resident-7', 'citizen'), key: one.tenant.publishableKey, headers: attacker };
    expect((await api(one.url, 'GET', '/v1/tickets', resident)).status).toBe(200);
    expect((await api(one.url, 'GET', '/v1/units', { auth: one.tenant.secretKey, headers: attacker })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const gateway = i % 2 === 0 ? one : two;
      statuses.push((await api(gateway.url, 'GET', '/v1/tickets', { auth: `cl_sk_${one.tenant.id}.guess-${i}`, headers: attacker })).status);
    }
    // Six failures in all (three on each gateway), then refused on both, before any lookup.
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    // A good key that gateway two has not verified is refused there too: it would need a lookup.
    const unverified = await api(two.url, 'GET', '/v1/tickets', { auth: one.tenant.secretKey, headers: attacker });
    expect(unverified.status).toBe(429);
    expect(unverified.body.error.code).toBe('CL_ERR_RATE_LIMITED');
    expect(Number(unverified.headers.get('retry-after'))).toBeGreaterThan(0);
    // What gateway one verified within AUTH_CACHE_TTL_MS still gets in there: one client
    // guessing does not shut out the others behind its address.
    expect((await api(one.url, 'GET', '/v1/tickets', resident)).status).toBe(200);
    expect((await api(one.url, 'GET', '/v1/tickets', { auth: one.tenant.secretKey, headers: attacker })).status).toBe(200);
    // A token of the same tenant not seen before verifies from memory too (its tenant's keys are cached).
    expect((await api(one.url, 'GET', '/v1/tickets', { ...resident, auth: await one.tenant.token('resident-8', 'citizen') })).status).toBe(200);
    // A guess is still refused there, before any lookup, and not counted again.
    expect((await api(one.url, 'GET', '/v1/tickets', { auth: `cl_sk_${one.tenant.id}.guess-9`, headers: attacker })).status).toBe(429);
    // Another client is not held back (TRUST_PROXY makes X-Forwarded-For the client address).
    expect((await api(two.url, 'GET', '/v1/tickets', { auth: one.tenant.secretKey, headers: from('198.51.100.2') })).status).toBe(200);
  });

  it('does not count expired tokens: their signature verified, and sessions end all the time behind one shared address', async () => {
    const carrier = from('203.0.113.30');
    const expired = await signToken({
      secretKey: one.tenant.secretKey,
      sub: 'resident-1',
      role: 'citizen',
      ttlSeconds: 60,
      now: new Date(Date.now() - 3_600_000),
    });
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const gateway = i % 2 === 0 ? one : two;
      codes.push((await api(gateway.url, 'GET', '/v1/tickets', { auth: expired, key: one.tenant.publishableKey, headers: carrier })).body.error.code);
    }
    expect(codes).toEqual(Array(10).fill('CL_ERR_TOKEN_EXPIRED'));
    expect((await api(one.url, 'GET', '/v1/tickets', { auth: one.tenant.secretKey, headers: carrier })).status).toBe(200);
    // A forged one still counts: six of them, and the address is refused.
    const forged = `${expired.slice(0, -4)}AAAA`;
    for (let i = 0; i < 6; i++) await api(two.url, 'GET', '/v1/tickets', { auth: forged, key: one.tenant.publishableKey, headers: carrier });
    expect((await api(one.url, 'GET', '/v1/tickets', { auth: forged, key: one.tenant.publishableKey, headers: carrier })).body.error.code).toBe(
      'CL_ERR_RATE_LIMITED',
    );
  });

  it('counts refused MQTT logins against the address too; a device the gateway let in before still gets in', async () => {
    // Straight to the broker: the address is the socket's, 127.0.0.1.
    const connectAs = (credential: { username: string; password: string }) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${one.telemetry!.tcpPort}`, { ...credential, reconnectPeriod: 0, connectTimeout: 2000 });
    const badge = await api(one.url, 'POST', '/v1/devices', {
      auth: one.tenant.secretKey,
      body: { kind: 'badge', name: 'Badge' },
      headers: from('192.0.2.10'),
    });
    await (await connectAs(badge.body.credential)).endAsync();
    for (let i = 0; i < 6; i++) {
      await mqtt
        .connectAsync(`mqtt://127.0.0.1:${one.telemetry!.tcpPort}`, {
          username: 'nobody',
          password: `cl_dk_wrong${i}`,
          reconnectPeriod: 0,
          connectTimeout: 2000,
        })
        .then(
          (client) => client.end(true),
          () => undefined,
        );
    }
    const device = await api(one.url, 'POST', '/v1/devices', {
      auth: one.tenant.secretKey,
      body: { kind: 'vehicle', name: 'Truck' },
      headers: from('192.0.2.10'),
    });
    const refused = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${one.telemetry!.tcpPort}`, {
        username: device.body.credential.username,
        password: device.body.credential.password,
        reconnectPeriod: 0,
      })
      .then(
        () => undefined,
        (error: { code?: number }) => error,
      );
    expect(refused?.code).toBe(5);
    // The badge this gateway let in before is looked up and let in again from the same address.
    const again = await connectAs(badge.body.credential);
    expect(again.connected).toBe(true);
    await again.endAsync();
    // ...and only while its secret is good: rotated, it is looked up, refused and counted.
    const rotated = await api(one.url, 'POST', `/v1/devices/${badge.body.device.id}/credentials`, { auth: one.tenant.secretKey, headers: from('192.0.2.10') });
    expect(rotated.status).toBe(200);
    await expect(connectAs(badge.body.credential)).rejects.toMatchObject({ code: 4 });
    // The count is shared: on the other gateway, that address's next failure is already past the limit.
    const next = await api(two.url, 'GET', '/v1/units', { auth: `cl_sk_${one.tenant.id}.guess`, headers: from('127.0.0.1') });
    expect(next.body.error.code).toBe('CL_ERR_RATE_LIMITED');
  });

  it("counts bad Open311 api_keys too, answering 429 with Retry-After in the spec's error format", async () => {
    const guesser = { ...from('203.0.113.51'), 'content-type': 'application/x-www-form-urlencoded' };
    // A district neither gateway has seen a key of yet (the suite's own tenant's keys were used above).
    const district = await one.createTenant('O');
    const post = (gateway: TestGateway, apiKey: string) =>
      fetch(`${gateway.url}/open311/v2/requests.json`, {
        method: 'POST',
        headers: guesser,
        body: new URLSearchParams({
          jurisdiction_id: district.code,
          api_key: apiKey,
          service_code: 'sanitation.bin_overflow',
          lat: '23.13',
          long: '113.33',
        }).toString(),
      });
    // A property platform's Open311 client posts through gateway one before the guessing starts.
    expect((await post(one, district.publishableKey)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(i % 2 === 0 ? one : two, `cl_pk_${district.id}.guess-${i}`)).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 403]);
    // Gateway two never verified the key: it would need a lookup, so it is refused there.
    const refused = await post(two, district.publishableKey);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual([{ code: 429, description: expect.stringContaining('failed authentications') }]);
    // Once gateway one knows the address is past the limit, a guess there is refused before any
    // lookup, and the key it verified earlier still gets the platform's posts in.
    expect((await post(one, `cl_pk_${district.id}.guess-9`)).status).toBe(429);
    expect((await post(one, district.publishableKey)).status).toBe(200);
    expect((await post(one, `cl_pk_${district.id}.guess-10`)).status).toBe(429);
    // The count is one for the whole API: the JSON API refuses that address's guesses too, and on
    // the other gateway its next failure is already past the limit.
    expect((await api(two.url, 'GET', '/v1/units', { auth: `cl_sk_${one.tenant.id}.guess-x`, headers: from('203.0.113.51') })).status).toBe(429);
    expect((await api(one.url, 'GET', '/v1/units', { auth: `cl_sk_${one.tenant.id}.guess`, headers: from('203.0.113.51') })).body.error.code).toBe(
      'CL_ERR_RATE_LIMITED',
    );
  });

  it('serves keyless reads to a blocked address, nothing in them being a guess; a photo read with credentials is refused', async () => {
    const carrier = from('203.0.113.77');
    for (let i = 0; i < 6; i++) await api(one.url, 'GET', '/v1/units', { auth: `cl_sk_${one.tenant.id}.guess-${i}`, headers: carrier });
    expect((await api(two.url, 'GET', '/v1/units', { auth: `cl_sk_${one.tenant.id}.guess`, headers: carrier })).status).toBe(429);
    // Residents behind the same address still get the OpenAPI document, Open311's service list and a photo's answer.
    for (const gateway of [one, two]) {
      expect((await fetch(`${gateway.url}/v1/openapi.json`, { headers: carrier })).status).toBe(200);
      expect((await fetch(`${gateway.url}/open311/v2/services.json?jurisdiction_id=${one.tenant.code}`, { headers: carrier })).status).toBe(200);
      const photo = await api(gateway.url, 'GET', `/v1/media/${one.tenant.id}/${'a'.repeat(64)}.jpg`, { headers: carrier });
      expect(photo.body.error.code).toBe('CL_ERR_NOT_FOUND');
    }
    // A photo read with a key this gateway has not verified would need a lookup: refused.
    const withKey = await api(two.url, 'GET', `/v1/media/${one.tenant.id}/${'a'.repeat(64)}.jpg`, { auth: `cl_sk_${one.tenant.id}.guess-x`, headers: carrier });
    expect(withKey.body.error.code).toBe('CL_ERR_RATE_LIMITED');
  });

  it('limits keyless routes per address across gateways, Open311 answering in its own format', async () => {
    const reader = from('203.0.113.99');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const gateway = i % 2 === 0 ? one : two;
      const res = await fetch(`${gateway.url}/open311/v2/services.json?jurisdiction_id=${one.tenant.code}`, { headers: reader });
      statuses.push(res.status);
      if (res.status === 429) expect(await res.json()).toEqual([{ code: 429, description: expect.stringContaining('without a key') }]);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Health checks are never limited.
    for (let i = 0; i < 3; i++) expect((await api(one.url, 'GET', '/v1/health', { headers: reader })).status).toBe(200);
  });
});
