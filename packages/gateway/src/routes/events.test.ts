import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { listenToEvents } from '@civicloop/test-support/event-stream.js';
import { fromWgs84 } from '@civicloop/model/crs';
import { CivicLoop } from '@civicloop/sdk';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ sseHeartbeatMs: 200 });
});
afterAll(async () => gw?.close());

/** A raw reader of the tenant's event stream, with the gateway's key or a token. */
const open = (auth: string, lastEventId?: string) => listenToEvents(gw.url, { auth, ...(lastEventId ? { lastEventId } : {}) });

async function until(check: () => boolean, what: string, ms = 5000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const createTicket = async () => (await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: BIN_REPORT })).body.id as string;

describe('GET /v1/events', () => {
  it('delivers every event exactly once across a disconnect, resuming with Last-Event-ID', async () => {
    const first = open(gw.tenant.secretKey);
    await first.ready;
    const before = [await createTicket(), await createTicket()];
    await until(() => first.received.length === 2, 'the first two events');
    first.close();
    await first.done;
    const lastSeen = first.received.at(-1)!.id;

    // While nobody listens, more happens.
    const during = [await createTicket(), await createTicket(), await createTicket()];

    const second = open(gw.tenant.secretKey, lastSeen);
    await second.ready;
    const after = [await createTicket()];
    await until(() => second.received.length === 4, 'the missed and the new events');
    // Anything else (a duplicate from the catch-up meeting the live feed) would come before an
    // event made now, since the stream is delivered in order: wait for that one instead of a pause.
    const sentinel = await createTicket();
    await until(() => second.received.some((e) => e.ticketId === sentinel), 'the last event');
    second.close();
    await second.done;

    const all = [...first.received, ...second.received.filter((e) => e.ticketId !== sentinel)];
    expect(all.map((e) => e.ticketId)).toEqual([...before, ...during, ...after]);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.every((e) => e.type === 'reported')).toBe(true);
  });

  it('shows a citizen only the events of their own tickets', async () => {
    const alice = await gw.tenant.token('alice', 'citizen');
    const stream = open(alice);
    await stream.ready;
    await createTicket();
    const own = await inject(gw, 'POST', '/v1/tickets', { auth: alice, body: BIN_REPORT });
    // The other ticket's event was made first: in order, it would have come before hers.
    await until(() => stream.received.length >= 1, "alice's event");
    stream.close();
    await stream.done;
    expect(stream.received.map((e) => e.ticketId)).toEqual([own.body.id]);
  });

  it('ends open streams when the gateway closes them (as on shutdown)', async () => {
    const stream = open(gw.tenant.secretKey);
    await stream.ready;
    await expect.poll(() => gw.streams.size).toBeGreaterThan(0);
    gw.streams.closeAll();
    await stream.done;
    expect(gw.streams.size).toBe(0);
  });

  it('answers the stream position, from which a subscriber receives exactly what happened after it', async () => {
    const earlier = await createTicket();
    const position = await inject(gw, 'GET', '/v1/events/position', { auth: gw.tenant.secretKey });
    expect(position.status).toBe(200);
    expect(position.body.lastEventId).toMatch(/^\d+-\d+$/);
    // Made after the position was read but before anyone subscribed (as while a page loads).
    const later = [await createTicket(), await createTicket()];
    const stream = open(gw.tenant.secretKey, position.body.lastEventId);
    await stream.ready;
    // The earlier event is before the position: in order, it would have come first.
    await until(() => stream.received.length >= 2, 'the two later events');
    stream.close();
    await stream.done;
    expect(stream.received.map((e) => e.ticketId)).toEqual(later);
    expect(stream.received.map((e) => e.ticketId)).not.toContain(earlier);
  });

  it('refuses the stream position without credentials', async () => {
    const res = await inject(gw, 'GET', '/v1/events/position', {});
    expect(res.status).toBe(401);
  });

  it("gives a report's place in the system the SDK subscribed with (?crs), the ticket staying in WGS-84", async () => {
    const sdk = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const subscription = sdk.subscribe({
      crs: 'bd09',
      lastEventId: (await inject(gw, 'GET', '/v1/events/position', { auth: gw.tenant.secretKey })).body.lastEventId,
    });
    const id = await createTicket();
    const iterator = subscription[Symbol.asyncIterator]();
    const { value } = await iterator.next();
    subscription.close();
    const { lat, lon } = BIN_REPORT.location;
    expect(value).toMatchObject({ event: { ticketId: id, type: 'reported', data: { location: { ...fromWgs84(lat, lon, 'bd09'), crs: 'bd09' } } } });
    expect((await inject(gw, 'GET', `/v1/tickets/${id}`, { auth: gw.tenant.secretKey })).body.location).toMatchObject({ lat, lon });
    const bad = await inject(gw, 'GET', '/v1/events?crs=epsg3857', { auth: gw.tenant.secretKey });
    expect([bad.status, bad.body.error?.code]).toEqual([400, 'CL_ERR_VALIDATION']);
  });

  it('refuses a malformed Last-Event-ID', async () => {
    const res = await inject(gw, 'GET', '/v1/events', { auth: gw.tenant.secretKey, headers: { 'last-event-id': 'yesterday' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('CL_ERR_VALIDATION');
  });
});
