import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketPage } from '@civicloop/model';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { buildSerializer } from './serialization.js';

let gw: TestGateway;
let clock = new Date('2026-12-04T01:00:00Z');
let citizen: string;
let worker: string;
/** What fastify's own serialiser for the route's response schema writes for a page. */
const schemaWrites = buildSerializer()({ schema: TicketPage, method: 'GET', url: '/v1/tickets', httpStatus: '200' }) as (page: unknown) => string;

beforeAll(async () => {
  gw = await startTestGateway({}, { now: () => clock });
  citizen = await gw.tenant.token('resident-7', 'citizen');
  worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
  const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#37a' } })
    .jpeg()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(jpeg)]), 'photo.jpg');
  const uploaded = await fetch(`${gw.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${gw.tenant.secretKey}` }, body: form });
  const stored = ((await uploaded.json()) as { ref: string }).ref;
  // Dispatched gas leaks have a resolve deadline, so these tickets carry overdue.
  const report = async (auth: string, body: object) => {
    const res = await inject(gw, 'POST', '/v1/tickets', { auth, body: { ...BIN_REPORT, category: 'gas.leak', ...body } });
    expect(res.status).toBe(201);
    const dispatched = await inject(gw, 'POST', `/v1/tickets/${res.body.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation' } });
    expect(dispatched.status).toBe(200);
  };
  await report(gw.tenant.secretKey, { description: 'plain report' });
  await report(gw.tenant.secretKey, {
    description: 'anonymous report, "quoted"\nover two lines',
    anonymous: true,
    reporterName: 'Li Wei',
    contact: '13800000000',
  });
  await report(citizen, { description: 'a resident report' });
  await report(gw.tenant.secretKey, { description: 'storage photo', photos: [{ ref: stored }] });
});
afterAll(async () => gw?.close());

async function pageText(query: string, auth: string): Promise<string> {
  const res = await gw.app.inject({ method: 'GET', url: `/v1/tickets?${query}`, headers: { authorization: `Bearer ${auth}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return res.body;
}

describe('GET /v1/tickets written from cached tickets', () => {
  it('is byte for byte what the response schema writes, for every reader and coordinate system, first and every later time', async () => {
    const readers = { operator: gw.tenant.secretKey, citizen, worker };
    for (const [name, auth] of Object.entries(readers)) {
      for (const query of ['limit=20', 'limit=2', 'limit=20&crs=gcj02', 'limit=20&crs=bd09']) {
        const first = await pageText(query, auth);
        const page = JSON.parse(first) as TicketPage;
        expect(page.items.length, `${name} ${query}`).toBeGreaterThan(0);
        expect(first, `${name} ${query}`).toBe(schemaWrites(page));
        // The second time the cached tickets' written forms are reused.
        expect(await pageText(query, auth), `${name} ${query}`).toBe(first);
      }
    }
  });

  it('still redacts per reader: the worker does not see an anonymous reporter, the operator does', async () => {
    const find = (text: string) => (JSON.parse(text) as TicketPage).items.find((t) => t.anonymous)!;
    expect(find(await pageText('limit=20', gw.tenant.secretKey)).reporter.name).toBe('Li Wei');
    const shownToWorker = find(await pageText('limit=20', worker));
    expect(shownToWorker.reporter.name).toBeUndefined();
    expect(shownToWorker.reporter.contact).toBeUndefined();
    // And the operator's cached form was not changed by the worker's reading.
    expect(find(await pageText('limit=20', gw.tenant.secretKey)).reporter.contact).toBe('13800000000');
  });

  it('signs stored photos per reading, never from a cached form', async () => {
    const photoOf = (text: string) => (JSON.parse(text) as TicketPage).items.find((t) => t.description === 'storage photo')!.photos[0]!.url;
    const first = photoOf(await pageText('limit=20', gw.tenant.secretKey));
    expect(first).toMatch(/^\/v1\/media\/t_[0-9a-f]{10}\/[0-9a-f]{64}\.jpg\?exp=\d+&sig=/);
    clock = new Date(clock.getTime() + 3 * 3600_000);
    const later = photoOf(await pageText('limit=20', gw.tenant.secretKey));
    expect(later).not.toBe(first);
  });

  it('says overdue as of each request, though the ticket is cached', async () => {
    const overdueFlags = async () => (JSON.parse(await pageText('limit=20', gw.tenant.secretKey)) as TicketPage).items.map((t) => t.overdue);
    clock = new Date('2026-12-04T01:00:00Z');
    expect(await overdueFlags()).toEqual([false, false, false, false]);
    clock = new Date('2026-12-31T01:00:00Z');
    expect(await overdueFlags()).toEqual([true, true, true, true]);
    clock = new Date('2026-12-04T01:00:00Z');
    expect(await overdueFlags()).toEqual([false, false, false, false]);
  });
});
