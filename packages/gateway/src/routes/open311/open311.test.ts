import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, api, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { MinuteClock } from '@civicloop/test-support/minute-clock.js';
import { asXmlText, readOpen311Xml } from '@civicloop/test-support/open311-xml.js';
import { open311Time } from './index.js';

// The field lists of GeoReport v2 (wiki.open311.org/GeoReport_v2).
// The fields in the order of the spec's own examples (wiki.open311.org/GeoReport_v2): XML keeps it, JSON is compared sorted.
const SPEC_SERVICE_ORDER = ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'];
const SPEC_REQUEST_ORDER = [
  'service_request_id',
  'status',
  'status_notes',
  'service_name',
  'service_code',
  'description',
  'agency_responsible',
  'service_notice',
  'requested_datetime',
  'updated_datetime',
  'expected_datetime',
  'address',
  'address_id',
  'zipcode',
  'lat',
  'long',
  'media_url',
];
const SERVICE_FIELDS = [...SPEC_SERVICE_ORDER].sort();
const REQUEST_FIELDS = [...SPEC_REQUEST_ORDER].sort();
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

let gw: TestGateway;
let base: string;
let jurisdiction: string;
beforeAll(async () => {
  gw = await startTestGateway();
  base = `${gw.url}/open311/v2`;
  jurisdiction = gw.tenant.code;
  // This tenant publishes its public-category tickets.
  await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
});
afterAll(async () => gw?.close());

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as any };
};
const post = async (fields: Record<string, string> | [string, string][]) => {
  const response = await fetch(`${base}/requests.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: (await response.json()) as any };
};
const expectError = (res: { status: number; body: any }, status: number) => {
  expect(res.status).toBe(status);
  expect(Array.isArray(res.body)).toBe(true);
  expect(res.body).toEqual([{ code: status, description: expect.any(String) }]);
};
/** An XML answer: its content type and declaration as the spec requires, then read. */
const readXml = async (response: Response) => {
  const text = await response.text();
  expect(response.headers.get('content-type'), text).toBe('text/xml; charset=utf-8');
  const document = readOpen311Xml(text);
  expect(document.declaration).toBe('<?xml version="1.0" encoding="UTF-8"?>');
  return { status: response.status, text, ...document };
};
const getXml = async (path: string, init?: RequestInit) => readXml(await fetch(`${base}${path}`, init));
const expectXmlError = (res: { status: number; root: string; body: unknown }, status: number) => {
  expect(res.status).toBe(status);
  expect(res.root).toBe('errors');
  expect(res.body).toEqual([{ code: String(status), description: expect.any(String) }]);
};

describe('Open311 GeoReport v2', () => {
  it("discovery and services: bare arrays, string codes, the spec's fields", async () => {
    const discovery = await get('/discovery.json');
    expect(discovery.body.endpoints[0]).toMatchObject({
      specification: 'http://wiki.open311.org/GeoReport_v2',
      type: 'production',
      formats: ['text/xml', 'application/json'],
    });
    const services = await get(`/services.json?jurisdiction_id=${jurisdiction}`);
    expect(Array.isArray(services.body)).toBe(true);
    expect(services.body.length).toBeGreaterThan(40);
    for (const service of services.body) {
      expect(Object.keys(service).sort()).toEqual(SERVICE_FIELDS);
      expect(typeof service.service_code).toBe('string');
      expect(service.type).toBe('realtime');
    }
    const definition = await get(`/services/sanitation.bin_overflow.json?jurisdiction_id=${jurisdiction}`);
    expect(definition.body).toEqual({ service_code: 'sanitation.bin_overflow', attributes: [] });
    expectError(await get(`/services/no.such.json?jurisdiction_id=${jurisdiction}`), 404);
  });

  it('POST requests.json (form-encoded, api_key) creates a ticket and answers with its id; GET finds it as the spec lists it', async () => {
    const created = await post({
      jurisdiction_id: jurisdiction,
      api_key: gw.tenant.publishableKey,
      service_code: 'sanitation.bin_overflow',
      lat: '23.1291',
      long: '113.2644',
      address_string: 'Bus stop, Tianhe Road',
      description: 'Bin overflowing',
      first_name: 'Ada',
      last_name: 'Lee',
      email: 'ada@example.org',
      account_id: 'acc-7',
      media_url: 'https://photos.example.org/bin.jpg',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toEqual([{ service_request_id: expect.stringMatching(/^[A-Z0-9]+-\d{8}-\d{4}$/), service_notice: '', account_id: 'acc-7' }]);
    const id = created.body[0].service_request_id as string;

    const one = await get(`/requests/${id}.json?jurisdiction_id=${jurisdiction}`);
    expect(Array.isArray(one.body)).toBe(true);
    const [request] = one.body;
    expect(Object.keys(request).sort()).toEqual(REQUEST_FIELDS);
    expect(request).toMatchObject({
      service_request_id: id,
      status: 'open',
      service_code: 'sanitation.bin_overflow',
      service_name: 'Overflowing bin',
      description: 'Bin overflowing',
      address: 'Bus stop, Tianhe Road',
      lat: 23.1291,
      long: 113.2644,
      media_url: 'https://photos.example.org/bin.jpg',
    });
    expect(request.requested_datetime).toMatch(DATETIME);
    expect(request.requested_datetime.endsWith('+08:00')).toBe(true);
    // No reporter data in public reads.
    expect(JSON.stringify(one.body)).not.toMatch(/Ada|ada@example/);

    // Closed once the loop completes: status and status_notes follow.
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const ticket = await server.tickets.getByNumber(id);
    await server.tickets.reject(ticket.id, { reason: 'invalid', note: 'Not a bin' });
    const closed = (await get(`/requests.json?jurisdiction_id=${jurisdiction}&service_request_id=${id}`)).body[0];
    expect(closed).toMatchObject({ status: 'closed', status_notes: 'Not accepted. (invalid)', expected_datetime: null });
  });

  it('GET requests.json filters by service_code, status and dates, newest first, within 90 days by default', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const light = await server.tickets.create({ ...BIN_REPORT, category: 'municipal.street_light', location: { lat: 23.2, lon: 113.2 } });
    const all = (await get(`/requests.json?jurisdiction_id=${jurisdiction}`)).body as { service_request_id: string; service_code: string; status: string }[];
    expect(all[0]!.service_request_id).toBe(light.number);
    expect(
      (await get(`/requests.json?jurisdiction_id=${jurisdiction}&service_code=municipal.street_light`)).body.map((r: any) => r.service_request_id),
    ).toEqual([light.number]);
    expect((await get(`/requests.json?jurisdiction_id=${jurisdiction}&status=closed`)).body.every((r: any) => r.status === 'closed')).toBe(true);
    expect((await get(`/requests.json?jurisdiction_id=${jurisdiction}&status=open`)).body.map((r: any) => r.service_request_id)).toContain(light.number);
    expect((await get(`/requests.json?jurisdiction_id=${jurisdiction}&end_date=2020-01-01T00:00:00Z`)).body).toEqual([]);
    expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&start_date=yesterday`), 400);
  });

  it('errors as the spec says: 403 bad api_key, 404 missing, 400 otherwise; nothing written', async () => {
    const other = await gw.createTenant('OTH');
    const before = await snapshotRedis(gw.redis.client);
    const form = {
      jurisdiction_id: jurisdiction,
      api_key: gw.tenant.publishableKey,
      service_code: 'sanitation.bin_overflow',
      lat: '23.1',
      long: '113.3',
      description: 'x',
    };
    expectError(await post({ ...form, api_key: 'cl_pk_wrong.key' }), 403);
    expectError(await post({ ...form, api_key: '' }), 403);
    expectError(await post({ ...form, api_key: other.publishableKey }), 403);
    expectError(await post({ ...form, service_code: 'nope' }), 404);
    expectError(await post({ ...form, lat: '91' }), 400);
    const { lat: _lat, long: _long, ...noPlace } = form;
    expectError(await post({ ...noPlace, address_string: 'Somewhere' }), 400);
    expectError(await post({ ...form, description: 'x'.repeat(4001) }), 400);
    expectError(await get(`/requests/NOPE-20200101-0001.json?jurisdiction_id=${jurisdiction}`), 404);
    expectError(await get('/requests.json'), 400);
    expectError(await get('/services.json?jurisdiction_id=NOWHERE'), 404);
    expectXmlError(await getXml(`/services.yaml?jurisdiction_id=${jurisdiction}`), 400);
    expectError(await get(`/tokens/abc.json?jurisdiction_id=${jurisdiction}`), 404);
    expectError(await get('/no/such/thing.json'), 404);
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });

  it("writes times in the jurisdiction's zone with an offset and no fractions", () => {
    expect(open311Time('2026-11-22T01:02:03.456Z', 'Asia/Shanghai')).toBe('2026-11-22T09:02:03+08:00');
    expect(open311Time('2026-07-01T12:00:00.000Z', 'America/New_York')).toBe('2026-07-01T08:00:00-04:00');
    expect(open311Time('2026-01-15T12:00:00.000Z', 'UTC')).toBe('2026-01-15T12:00:00+00:00');
    expect(open311Time(undefined, 'UTC')).toBeNull();
  });
});

describe('Open311 input as clients send it', () => {
  const form = () => ({
    jurisdiction_id: jurisdiction,
    api_key: gw.tenant.publishableKey,
    service_code: 'sanitation.bin_overflow',
    lat: '23.13',
    long: '113.33',
    description: 'Input case',
  });

  it('treats empty parameters as absent, and never stores a request at 0,0', async () => {
    const before = await snapshotRedis(gw.redis.client);
    expectError(await post({ ...form(), lat: '', long: '' }), 400);
    expectError(await post({ ...form(), lat: ' ', long: '113.3' }), 400);
    expectError(await post({ ...form(), lat: '0x10', long: '113.3' }), 400);
    expectError(await post({ ...form(), service_code: '' }), 400);
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
    const created = await post({ ...form(), media_url: '', first_name: '', email: '' });
    expect(created.status).toBe(200);
    const [shown] = (await get(`/requests/${created.body[0].service_request_id}.json?jurisdiction_id=${jurisdiction}&status=`)).body;
    expect(shown).toMatchObject({ lat: 23.13, long: 113.33, media_url: null });
    // Empty filters are no filters.
    const all = await get(`/requests.json?jurisdiction_id=${jurisdiction}&service_code=&status=&start_date=&end_date=`);
    expect(all.status).toBe(200);
    expect(all.body.map((r: any) => r.service_request_id)).toContain(created.body[0].service_request_id);
  });

  it('takes repeated service_code and status lists with spaces or capitals; refuses conflicting repeats', async () => {
    const light = await post({ ...form(), service_code: 'municipal.street_light' });
    const bin = await post(form());
    const ids = [light.body[0].service_request_id, bin.body[0].service_request_id];
    const both = await get(
      `/requests.json?jurisdiction_id=${jurisdiction}&service_code=municipal.street_light&service_code=sanitation.bin_overflow&status=Open,%20CLOSED`,
    );
    expect(both.status).toBe(200);
    expect(both.body.map((r: any) => r.service_request_id)).toEqual(expect.arrayContaining(ids));
    expect(new Set(both.body.map((r: any) => r.service_code))).toEqual(new Set(['municipal.street_light', 'sanitation.bin_overflow']));
    const open = await get(`/requests.json?jurisdiction_id=${jurisdiction}&status=%20OPEN%20`);
    expect(open.body.every((r: any) => r.status === 'open')).toBe(true);
    expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&status=pending`), 400);
    expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&jurisdiction_id=OTHER`), 400);
    expect((await get(`/requests.json?jurisdiction_id=${jurisdiction}&jurisdiction_id=${jurisdiction}`)).status).toBe(200);
    expectError(await post([...Object.entries(form()), ['lat', '1']]), 400);
  });

  it('reads an unencoded + in a time as +, and refuses times out of range or the wrong way round with 400', async () => {
    const plus = await get(`/requests.json?jurisdiction_id=${jurisdiction}&start_date=2020-01-01T00:00:00+08:00`);
    expect(plus.status).toBe(200);
    expect(plus.body.length).toBeGreaterThan(0);
    for (const bad of ['2026-13-45T00:00:00Z', '+275760-09-13T00:00:01Z', '99999-01-01', 'yesterday', '2026-11-22T09:00:00 0800x']) {
      expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&end_date=${encodeURIComponent(bad)}`), 400);
    }
    expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z`), 400);
  });

  it('answers 404 for an unknown service_code everywhere, and a bad URL or long id in its own format', async () => {
    expectError(await get(`/services/sanitation.unicorns.json?jurisdiction_id=${jurisdiction}`), 404);
    expectError(await get(`/requests.json?jurisdiction_id=${jurisdiction}&service_code=sanitation.unicorns`), 404);
    expectError(await post({ ...form(), service_code: 'sanitation.unicorns' }), 404);
    expectError(await get(`/requests/${'9'.repeat(300)}.json?jurisdiction_id=${jurisdiction}`), 400);
    expectError(await get(`/requests/%E0%A4%A.json?jurisdiction_id=${jurisdiction}`), 400);
  });

  it('answers media_url absolute, served without credentials for a published ticket', async () => {
    const photo = await (await import('sharp'))
      .default({ create: { width: 32, height: 32, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer();
    const body = new FormData();
    body.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'p.jpg');
    const uploaded = (await (
      await fetch(`${gw.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${gw.tenant.secretKey}` }, body })
    ).json()) as { ref: string };
    const ticket = await api(gw.url, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, photos: [{ ref: uploaded.ref }] } });
    const [shown] = (await get(`/requests/${ticket.body.number}.json?jurisdiction_id=${jurisdiction}`)).body;
    expect(shown.media_url).toBe(`${gw.url}/v1/media/${uploaded.ref.slice('media:'.length)}`);
    const image = await fetch(shown.media_url);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
  });
});

describe('what Open311 shows without credentials', () => {
  it("shows nothing of a tenant that does not publish, and never a private ticket's text, place or photos", async () => {
    const closed = await gw.createTenant('PRIV');
    expectError(await get(`/requests.json?jurisdiction_id=${closed.code}`), 403);
    expect((await get(`/services.json?jurisdiction_id=${closed.code}`)).status).toBe(200);

    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const personal = await server.tickets.create({
      ...BIN_REPORT,
      category: 'other.personal',
      description: 'My neighbour at flat 1201',
      location: { lat: 23.141, lon: 113.341, address: 'Flat 1201, Block 3' },
    });
    const noisy = await server.tickets.create({ ...BIN_REPORT, category: 'order.noise', description: 'Loud bar' });
    const all = JSON.stringify((await get(`/requests.json?jurisdiction_id=${jurisdiction}`)).body);
    expect(all).not.toContain(personal.number);
    expect(all).not.toMatch(/flat 1201|Block 3/i);
    expect(all).toContain(noisy.number);
    expectError(await get(`/requests/${personal.number}.json?jurisdiction_id=${jurisdiction}`), 404);
    expect((await get(`/requests.json?jurisdiction_id=${jurisdiction}&service_request_id=${personal.number}`)).body).toEqual([]);
    // The tenant makes noise complaints private: they disappear from public reads at once.
    await gw.services.tenants.updatePolicy(gw.tenant.id, { categoryVisibility: { 'order.noise': 'private' } });
    expectError(await get(`/requests/${noisy.number}.json?jurisdiction_id=${jurisdiction}`), 404);
    await gw.services.tenants.updatePolicy(gw.tenant.id, { categoryVisibility: {} });
  });
});

describe('Open311 rate limit', () => {
  it("limits each client address, answering 429 in the spec's error format", async () => {
    // The limit counts per minute of the gateway's clock: the count starts at a minute's start.
    const clock = new MinuteClock();
    const limited = await startTestGateway({ rateLimitKeylessPerAddress: 3 }, { now: clock.now });
    clock.startMinute();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${limited.url}/open311/v2/services.json?jurisdiction_id=${limited.tenant.code}`)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const body = await (await fetch(`${limited.url}/open311/v2/discovery.json`)).json();
      expect(body).toEqual([{ code: 429, description: expect.stringMatching(/requests a minute/) }]);
    } finally {
      await limited.close();
    }
  });
});

describe('Open311 from a lenient client', () => {
  it('reads a JSON body like a form', async () => {
    const response = await fetch(`${base}/requests.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jurisdiction_id: jurisdiction,
        api_key: gw.tenant.publishableKey,
        service_code: 'sanitation.bin_overflow',
        lat: '23.13',
        long: '113.33',
        description: 'Sent as JSON',
      }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { service_request_id: string }[])[0]!.service_request_id).toMatch(/-\d{4}$/);
  });
});

describe('Open311 in XML, the format the spec requires', () => {
  const postXml = (fields: Record<string, string>) =>
    getXml('/requests.xml', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams(fields),
    });
  const form = () => ({
    jurisdiction_id: jurisdiction,
    api_key: gw.tenant.publishableKey,
    service_code: 'sanitation.bin_overflow',
    lat: '23.1291',
    long: '113.2644',
    description: 'Sent for XML',
  });

  it("answers every call in XML with the spec's elements and the same content as its JSON", async () => {
    const created = await postXml({ ...form(), account_id: 'acc-xml', address_string: 'Tianhe Road' });
    expect(created.status, created.text).toBe(200);
    expect(created.root).toBe('service_requests');
    expect(created.body).toEqual([{ service_request_id: expect.stringMatching(/-\d{4}$/), service_notice: '', account_id: 'acc-xml' }]);
    const id = (created.body as { service_request_id: string }[])[0]!.service_request_id;

    const calls: [string, string][] = [
      ['/discovery', 'discovery'],
      [`/services?jurisdiction_id=${jurisdiction}`, 'services'],
      [`/services/sanitation.bin_overflow?jurisdiction_id=${jurisdiction}`, 'service_definition'],
      [`/requests?jurisdiction_id=${jurisdiction}&service_request_id=${id}`, 'service_requests'],
      [`/requests/${id}?jurisdiction_id=${jurisdiction}`, 'service_requests'],
    ];
    for (const [call, root] of calls) {
      const [path, query] = call.split('?');
      const xml = await getXml(`${path}.xml${query ? `?${query}` : ''}`);
      const json = await get(`${path}.json${query ? `?${query}` : ''}`);
      expect(xml.status, xml.text).toBe(200);
      expect(xml.root, call).toBe(root);
      expect(xml.body, call).toEqual(asXmlText(json.body));
    }
    const discovery = (await getXml('/discovery.xml')).body as { endpoints: { formats: string[]; url: string }[] };
    expect(discovery.endpoints[0]!.formats).toEqual(['text/xml', 'application/json']);
    expect(discovery.endpoints[0]!.url).toBe(base);
    const services = (await getXml(`/services.xml?jurisdiction_id=${jurisdiction}`)).body as Record<string, string>[];
    expect(services.length).toBeGreaterThan(40);
    for (const service of services) expect(Object.keys(service)).toEqual(SPEC_SERVICE_ORDER);
    const [request] = (await getXml(`/requests/${id}.xml?jurisdiction_id=${jurisdiction}`)).body as Record<string, string>[];
    expect(Object.keys(request!)).toEqual(SPEC_REQUEST_ORDER);
    expect(request).toMatchObject({
      service_request_id: id,
      status: 'open',
      lat: '23.1291',
      long: '113.2644',
      address: 'Tianhe Road',
      address_id: '',
      zipcode: '',
    });
  });

  it('sends errors in the format the URL asks for, XML when it names none; a refusal writes nothing', async () => {
    const before = await snapshotRedis(gw.redis.client);
    expectXmlError(await postXml({ ...form(), api_key: 'cl_pk_wrong.key' }), 403);
    expectXmlError(await postXml({ ...form(), service_code: 'nope' }), 404);
    expectXmlError(await postXml({ ...form(), lat: '' }), 400);
    expectXmlError(await getXml(`/requests/NOPE-20200101-0001.xml?jurisdiction_id=${jurisdiction}`), 404);
    expectXmlError(await getXml('/services.xml'), 400);
    expectXmlError(await getXml(`/services.csv?jurisdiction_id=${jurisdiction}`), 400);
    expectXmlError(await getXml(`/tokens/abc.xml?jurisdiction_id=${jurisdiction}`), 404);
    expectXmlError(await getXml('/no/such/thing'), 404);
    expectXmlError(await getXml(`/requests/%E0%A4%A.xml?jurisdiction_id=${jurisdiction}`), 400);
    // The same mistakes asked for in JSON answer in JSON.
    expectError(await get(`/requests/NOPE-20200101-0001.json?jurisdiction_id=${jurisdiction}`), 404);
    expectError(await get('/no/such/thing.json'), 404);
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });

  it('carries any text a resident writes in a document every client can parse', async () => {
    const description = 'Bin <overflowing> & "smelly" ]]> 垃圾桶满了 \u0001\u001f end';
    const created = await postXml({ ...form(), description });
    expect(created.status, created.text).toBe(200);
    const id = (created.body as { service_request_id: string }[])[0]!.service_request_id;
    const [asJson] = (await get(`/requests/${id}.json?jurisdiction_id=${jurisdiction}`)).body;
    expect(asJson.description).toBe(description);
    const xml = await getXml(`/requests/${id}.xml?jurisdiction_id=${jurisdiction}`);
    expect(xml.text).toContain('Bin &lt;overflowing&gt; &amp; "smelly" ]]&gt;');
    // XML 1.0 cannot carry C0 control characters: they arrive as U+FFFD, the rest unchanged.
    expect((xml.body as { description: string }[])[0]!.description).toBe('Bin <overflowing> & "smelly" ]]> 垃圾桶满了 \uFFFD\uFFFD end');
  });

  it('lets a browser dashboard on any origin read the public calls, and no more', async () => {
    const origin = { headers: { origin: 'https://dashboard.example.org' } };
    for (const path of [`/services.xml?jurisdiction_id=${jurisdiction}`, `/requests.json?jurisdiction_id=${jurisdiction}`, '/discovery.json']) {
      const response = await fetch(`${base}${path}`, origin);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    }
    // A refusal too, so the page can say why.
    const closed = await gw.createTenant('CORS');
    const refused = await fetch(`${base}/requests.xml?jurisdiction_id=${closed.code}`, origin);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    // Posting a request is not a public read.
    const posted = await fetch(`${base}/requests.xml`, {
      method: 'POST',
      headers: { ...origin.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form()),
    });
    expect(posted.status).toBe(200);
    expect(posted.headers.get('access-control-allow-origin')).toBeNull();
  });
});
