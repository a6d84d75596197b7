import SwaggerParser from '@apidevtools/swagger-parser';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, api, digestRedis, startTestGateway, startTestRedis, type TestGateway, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { hostile, hostileText, type Hints, type Schema } from '@civicloop/test-support/fuzz.js';
import { readOpen311Xml } from '@civicloop/test-support/open311-xml.js';
import { CATEGORIES } from '@civicloop/model';

/**
 * Every route of the OpenAPI document, and Open311's, with malformed and hostile input: path
 * parameters, query strings, bodies, headers and credentials. For every request: no 5xx, no
 * crash, a CL_ERR_* code (Open311: its own error format), nothing written in Redis by a refused
 * request (DEBUG DIGEST before and after), and a good client beside it still served. Bounded in
 * time: FUZZ_SECONDS (default 60) in all, spread over the routes.
 */
const BUDGET_MS = Number(process.env.FUZZ_SECONDS ?? 60) * 1000;
let redis: TestRedis;
let gw: TestGateway;
let doc: { paths: Record<string, Record<string, Operation>> };
const ids: Record<string, string[]> = {};
let credentials: Record<string, Record<string, string>>;
/** What a client that knows the tenant would put in these fields: real codes and ids. */
let hints: Hints;

interface Operation {
  parameters?: { in: 'path' | 'query' | 'header'; name: string; schema: Schema; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

beforeAll(async () => {
  redis = await startTestRedis({ digest: true });
  // No background loops: they would write while a refused request is watched.
  gw = await startTestGateway({ operatorToken: 'fuzz-operator', webhooksEnabled: false }, { redis });
  // Shared shapes are $refs in the document: written out again here, so each body is fuzzed by its schema.
  doc = (await SwaggerParser.dereference((await api(gw.url, 'GET', '/v1/openapi.json')).body)) as unknown as typeof doc;
  const admin = await gw.tenant.token('fuzz-admin', 'admin');
  const citizen = await gw.tenant.token('fuzz-resident', 'citizen');
  // Admin tokens reach almost every route, but cannot rotate the secret key the test relies on.
  credentials = {
    admin: { authorization: `Bearer ${admin}` },
    citizen: { authorization: `Bearer ${citizen}`, 'x-civicloop-key': gw.tenant.publishableKey },
    publishable: { 'x-civicloop-key': gw.tenant.publishableKey },
    none: {},
    garbage: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' },
    operator: { authorization: 'Bearer fuzz-operator' },
  };
  // Real ids, so that some requests get past "not found" into the handlers.
  const ticket = await api(gw.url, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT });
  const device = await api(gw.url, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Fuzz badge', staffId: 'w-1' } });
  const zone = await api(gw.url, 'POST', '/v1/zones', {
    auth: gw.tenant.secretKey,
    body: {
      id: 'fuzz-zone',
      name: 'Zone',
      type: 'community',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [113.2, 23.1],
            [113.3, 23.1],
            [113.3, 23.2],
            [113.2, 23.1],
          ],
        ],
      },
    },
  });
  const webhook = await api(gw.url, 'POST', '/v1/webhooks', { auth: gw.tenant.secretKey, body: { url: 'https://hooks.example.org/fuzz' } });
  hints = {
    category: fc.constantFrom(...CATEGORIES.map((c) => c.code)),
    unitId: fc.constantFrom('sanitation', 'municipal'),
    assigneeId: fc.constantFrom('w-1', 'w-2', 'w-3'),
    staffId: fc.constantFrom('w-1', 'w-2'),
    into: fc.constant(ticket.body.id),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    timeZone: fc.constantFrom('Asia/Shanghai', 'UTC', 'Mars/Olympus'),
  };
  Object.assign(ids, {
    id: [ticket.body.id, device.body.device.id, zone.body.id, webhook.body.id, 'sanitation', 'w-1'],
    number: [ticket.body.number],
    code: ['BS-FUZZ-202601-001'],
    tenantId: [gw.tenant.id],
    name: [`${'a'.repeat(64)}.jpg`],
  });
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await redis?.stop();
});

const statuses = new Map<number, number>();

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

async function send(request: Sent): Promise<{ status: number; text: string; type: string }> {
  const controller = new AbortController();
  const response = await fetch(gw.url + request.path, {
    method: request.method,
    headers: request.headers,
    signal: controller.signal,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const type = response.headers.get('content-type') ?? '';
  // An event stream that opened does not end by itself: its status and type say enough.
  if (type.startsWith('text/event-stream')) {
    controller.abort();
    return { status: response.status, text: '', type };
  }
  return { status: response.status, text: await response.text(), type };
}

/** Percent-encodes every byte: works for any string, lone surrogates included. */
const encodeBytes = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/**
 * A query value as text. String() throws on objects whose toString or valueOf is not a function
 * (anyJson makes `{"toString": 1}`), so anything but a string or number goes as its JSON.
 */
const queryText = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? 'null'));
/** A header value as raw bytes (UTF-8 read as Latin-1, as a careless client sends it), minus CR/LF. */
const headerBytes = (text: string) =>
  Buffer.from(text.replace(/[\r\n\0]/g, ''), 'utf8')
    .toString('latin1')
    .trim() || 'x';

function requestArbitrary(method: string, template: string, operation: Operation): fc.Arbitrary<Sent> {
  const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
  const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query');
  const jsonBody = operation.requestBody?.content['application/json']?.schema;
  const segment = (name: string) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...(ids[name] ?? ids.id!)) },
      { weight: 2, arbitrary: hostileText.map(encodeBytes) },
      // Raw, unencoded: lone "%", dots, separators.
      { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '..', '.%2e', 'a%00b', '%E0%A4%A', 'x'.repeat(300)) },
    );
  const query = fc.tuple(
    fc
      .subarray(queryParams)
      .chain((chosen) => fc.tuple(...chosen.map((p) => fc.tuple(fc.constant(p.name), fc.oneof(hostileText, hostile(p.schema).map(queryText)))))),
    fc.option(fc.tuple(hostileText, hostileText), { nil: undefined }),
  );
  const body: fc.Arbitrary<{ text?: string; type?: string }> = !['POST', 'PATCH'].includes(method)
    ? fc.constant({})
    : fc.oneof(
        {
          weight: 4,
          arbitrary: hostile(jsonBody ?? { type: 'object' }, hints).map((value) => ({ text: JSON.stringify(value) ?? 'null', type: 'application/json' })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('{"a":', '', '[', 'null', '"x"', '{"__proto__":{"admin":true}}', '\u0000', '{"a":1,"a":2}')
            .map((text) => ({ text, type: 'application/json' })),
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.string({ maxLength: 50 }),
              fc.constantFrom(
                'text/plain',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
                'application/json; charset=latin1',
                'image/jpeg',
              ),
            )
            .map(([text, type]) => ({ text, type })),
        },
      );
  // Present now and then: a header that refuses every request (an Origin not allowed) would
  // keep the fuzz from ever reaching validation and the handlers.
  const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight: number) =>
    fc.oneof({ weight: 10 - weight, arbitrary: fc.constant(undefined) }, { weight, arbitrary });
  const headers = fc.record({
    creds: fc.oneof(
      { weight: 5, arbitrary: fc.constant('admin') },
      { weight: 1, arbitrary: fc.constantFrom('citizen', 'publishable', 'none', 'garbage', 'operator') },
    ),
    idempotency: sometimes(fc.oneof(hostileText, fc.uuid()), 3),
    lastEventId: sometimes(hostileText, 2),
    origin: sometimes(fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'), 1),
  });
  return fc.tuple(fc.tuple(...pathParams.map((p) => segment(p.name))), query, body, headers).map(([segments, [pairs, extra], bodyParts, h]) => {
    let path = template;
    for (const [i, p] of pathParams.entries()) path = path.replace(`{${p.name}}`, segments[i]!);
    const search = new URLSearchParams();
    for (const [name, value] of pairs) search.append(name, value);
    if (extra) search.append(extra[0], extra[1]);
    const qs = search.toString();
    const sent: Sent = { method, path: qs ? `${path}?${qs}` : path, headers: { ...credentials[h.creds] } };
    if (h.idempotency !== undefined) sent.headers['idempotency-key'] = headerBytes(h.idempotency);
    if (h.lastEventId !== undefined) sent.headers['last-event-id'] = headerBytes(h.lastEventId);
    if (h.origin !== undefined) sent.headers.origin = h.origin;
    if (bodyParts.text !== undefined) {
      sent.body = bodyParts.text;
      if (bodyParts.type) sent.headers['content-type'] = bodyParts.type;
    }
    return sent;
  });
}

/** Sends one request and holds the gateway to the rules; returns a description when it breaks one. */
async function judge(request: Sent, errorFormat: 'civicloop' | 'open311'): Promise<void> {
  const before = await digestRedis(redis.client);
  const response = await send(request);
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  const what = `${request.method} ${request.path.slice(0, 200)} -> ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, what).toBeLessThan(500);
  // Open311 in XML: every answer, whatever was stored or asked, is a document a client can parse.
  const askedXml = errorFormat === 'open311' && !request.path.split('?', 1)[0]!.endsWith('.json');
  if (askedXml) expect(() => readOpen311Xml(response.text), what).not.toThrow();
  if (response.status >= 400) {
    if (errorFormat === 'open311') {
      // In the format the URL asks for: JSON for .json, otherwise XML (the spec's default).
      const body = askedXml ? readOpen311Xml(response.text).body : JSON.parse(response.text);
      expect(body, what).toEqual([{ code: askedXml ? String(response.status) : response.status, description: expect.any(String) }]);
    } else {
      const body = JSON.parse(response.text) as { error?: { code?: string } };
      expect(body.error?.code, what).toMatch(/^CL_ERR_[A-Z_]+$/);
    }
    expect(await digestRedis(redis.client), `a refused request wrote to Redis: ${what}`).toBe(before);
  }
}

/** The good client beside the fuzz: still served. */
async function goodClientServed(): Promise<void> {
  expect((await api(gw.url, 'GET', '/v1/health')).status).toBe(200);
  expect((await api(gw.url, 'GET', `/v1/tickets/${ids.id![0]}`, { auth: gw.tenant.secretKey })).status).toBe(200);
}

describe('HTTP fuzz', () => {
  it('every route of the OpenAPI document, with hostile input', { timeout: BUDGET_MS + 120_000 }, async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    expect(operations.length).toBeGreaterThan(60);
    const perOperation = Math.floor((BUDGET_MS * 0.8) / operations.length);
    for (const { path, method, op } of operations) {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(method, path, op), (request) => judge(request, 'civicloop')),
        { numRuns: 40, interruptAfterTimeLimit: perOperation, markInterruptAsFailure: false },
      );
      await goodClientServed();
    }
    // The fuzz must get past the door: many requests were handled or judged by their content,
    // not all turned away for their credentials.
    const count = (match: (status: number) => boolean) => [...statuses].filter(([status]) => match(status)).reduce((n, [, k]) => n + k, 0);
    expect(count((s) => s < 300)).toBeGreaterThan(100);
    expect(count((s) => [400, 404, 409, 415, 422].includes(s))).toBeGreaterThan(500);
  });

  it('Open311, with hostile parameters and forms, answering in its own error format', { timeout: BUDGET_MS + 60_000 }, async () => {
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
    const param = fc.oneof(
      hostileText,
      fc.constantFrom('', ' ', 'json', gw.tenant.code, 'sanitation.bin_overflow', 'open, CLOSED', '2026-11-22T09:00:00 08:00', '23.1', '0'),
    );
    const names = [
      'jurisdiction_id',
      'service_code',
      'status',
      'start_date',
      'end_date',
      'service_request_id',
      'lat',
      'long',
      'api_key',
      'description',
      'media_url',
      'address_string',
      'first_name',
      'email',
      'account_id',
      'attribute[x]',
    ];
    const pairs = fc.array(fc.tuple(fc.constantFrom(...names), param), { maxLength: 8 });
    const calls = ['/discovery', '/services', '/services/{x}', '/requests', '/requests/{x}', '/tokens/{x}'];
    const template = fc.constantFrom(...calls.map((c) => `${c}.json`), ...calls.map((c) => `${c}.xml`), '/services.yaml', '/nowhere');
    const request = fc.tuple(template, hostileText, pairs, fc.boolean(), fc.boolean()).map(([path, x, list, isPost, withKey]) => {
      const search = new URLSearchParams(list);
      if (withKey) search.set('api_key', gw.tenant.publishableKey);
      const sent: Sent = { method: isPost ? 'POST' : 'GET', path: `/open311/v2${path.replace('{x}', encodeBytes(x))}`, headers: {} };
      if (isPost) {
        sent.body = search.toString();
        sent.headers['content-type'] = 'application/x-www-form-urlencoded';
      } else if ([...search].length > 0) sent.path += `?${search.toString()}`;
      return sent;
    });
    await fc.assert(
      fc.asyncProperty(request, (r) => judge(r, 'open311')),
      { numRuns: 400, interruptAfterTimeLimit: BUDGET_MS / 4, markInterruptAsFailure: false },
    );
    await goodClientServed();
  });
});
