import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';
import { twoPartners, type PartnerFixture } from '@civicloop/test-support/partners.js';
import { listenToEvents } from '@civicloop/test-support/event-stream.js';
import { sampleOf, type Schema } from '@civicloop/test-support/schema-sample.js';

/**
 * One partner (property platform) must not see, act on or hear of anything of another's
 * residents: on every route of the API, on the event stream and through webhooks. Partner A's
 * resident reports; everything B holds (its secret key, its publishable key, its resident's
 * token) is thrown at every route with A's identifiers, and nothing of A may come back or change.
 */
let gw: TestGateway;
let a: PartnerFixture;
let b: PartnerFixture;
let hookOfA: { id: string; url: string };
beforeAll(async () => {
  gw = await startTestGateway({ webhookAllowPrivateTargets: true, webhookPollMs: 40 });
  [a, b] = await twoPartners(gw);
  hookOfA = (await inject(gw, 'POST', '/v1/webhooks', { auth: a.keys.secretKey, body: { url: 'https://hooks.partner-a.example/civicloop' } })).body;
});
afterAll(async () => gw?.close());

interface Operation {
  method: string;
  path: string;
  body?: unknown;
  stream: boolean;
}

/** Every operation of the API document, plus the routes it does not list (Open311, stored photos). */
async function everyOperation(): Promise<Operation[]> {
  const doc = (await inject(gw, 'GET', '/v1/openapi.json')).body as {
    paths: Record<string, Record<string, Schema>>;
    components: { schemas: Record<string, Schema> };
  };
  const out: Operation[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = ((operation.requestBody as Schema | undefined)?.content ?? {}) as Record<string, { schema?: Schema }>;
      const body = content['application/json'] ? sampleOf(content['application/json'].schema, doc.components.schemas) : undefined;
      const produces = Object.values((operation.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>).some(
        (r) => r.content && 'text/event-stream' in r.content,
      );
      out.push({ method: method.toUpperCase(), path, ...(body !== undefined ? { body } : {}), stream: produces });
    }
  }
  const photo = a.ticket.photos[0]!.url ?? '';
  const photoPath = new URL(photo, gw.url).pathname;
  for (const path of ['/open311/v2/requests.json', `/open311/v2/requests/${a.ticket.number}.json`, '/open311/v2/requests.xml', photoPath])
    out.push({ method: 'GET', path, stream: false });
  return out;
}

/** A's identifiers in the path: a route about "a ticket" gets A's ticket, and so on. */
function aimedAtA(path: string): string {
  return path
    .replace('/tickets/by-number/{number}', `/tickets/by-number/${a.ticket.number}`)
    .replace('/tickets/{id}', `/tickets/${a.ticket.id}`)
    .replace('/webhooks/{id}', `/webhooks/${hookOfA.id}`)
    .replace('/partners/{id}', `/partners/${a.id}`)
    .replace('/zones/{id}', `/zones/${a.zoneId}`)
    .replace(/\{tenantId\}/g, gw.tenant.id)
    .replace(/\{[^}]+\}/g, 'x');
}

/** Everything that would identify A's resident or A's report. */
const secretsOfA = () => [a.ticket.id, a.ticket.number, a.marker, a.id, hookOfA.id, hookOfA.url, a.ticket.photos[0]!.ref.split('/').pop()!, '13800000000'];

async function stateOfA() {
  const asTenant = { auth: gw.tenant.secretKey };
  const ticket = (await inject(gw, 'GET', `/v1/tickets/${a.ticket.id}`, asTenant)).body;
  const history = (await inject(gw, 'GET', `/v1/tickets/${a.ticket.id}/history`, asTenant)).body;
  const hooks = (await inject(gw, 'GET', '/v1/webhooks', { auth: a.keys.secretKey })).body;
  const partner = (await inject(gw, 'GET', `/v1/partners/${a.id}`, asTenant)).body;
  const zone = (await inject(gw, 'GET', `/v1/zones/${a.zoneId}`, asTenant)).body;
  const { photos: _p, afterPhotos: _a, overdue: _o, ...rest } = ticket;
  return JSON.stringify({ rest, photos: ticket.photos.map((p: { ref: string }) => p.ref), history: history.items.length, hooks, partner, zone });
}

describe("a partner cannot reach another partner's residents", () => {
  it("on every route, with each of its keys and its resident's token", async () => {
    const operations = await everyOperation();
    expect(operations.length).toBeGreaterThan(90);
    const before = await stateOfA();
    const credentials: [string, { auth?: string; key?: string }][] = [
      ['secret key', { auth: b.keys.secretKey }],
      ['publishable key', { key: b.keys.publishableKey }],
      ['resident token', { auth: b.resident }],
      ['resident token + publishable key', { auth: b.resident, key: b.keys.publishableKey }],
    ];
    const reached: string[] = [];
    const refused = new Map<number, number>();
    for (const operation of operations.filter((o) => !o.stream)) {
      const path = aimedAtA(operation.path);
      for (const [who, credential] of credentials) {
        const res = await inject(gw, operation.method, path, { ...credential, ...(operation.body !== undefined ? { body: operation.body } : {}) });
        const label = `${operation.method} ${path} with B's ${who}`;
        expect(res.status, label).not.toBe(500);
        if (res.status < 300) {
          reached.push(label);
          const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
          for (const secret of secretsOfA()) expect(text, `${label} shows ${secret}`).not.toContain(secret);
        } else {
          refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
        }
      }
    }
    // The sweep did reach handlers: B's own reads answer, A's things are not found or out of scope.
    expect(reached).toContain("GET /v1/tickets with B's secret key");
    expect(refused.get(404)).toBeGreaterThan(20);
    expect(refused.get(403)).toBeGreaterThan(50);
    // What a resident may do to a report, done by B's resident to A's: nobody there.
    for (const command of ['cancel', 'feedback', 'urge', 'follow']) {
      const res = await inject(gw, 'POST', `/v1/tickets/${a.ticket.id}/${command}`, { auth: b.resident, body: command === 'feedback' ? { rating: 1 } : {} });
      expect(res.status, command).toBe(404);
    }
    expect(await stateOfA()).toBe(before);
    // A's keys and token still work.
    expect((await inject(gw, 'GET', `/v1/tickets/${a.ticket.id}`, { auth: a.resident })).status).toBe(200);
  });
});

async function receiver() {
  const bodies: { data: { event: { ticketId: string; type: string; actor: { sub: string } } } }[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(body));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('events and webhooks reach only their own partner', () => {
  it("the event stream and webhooks carry A's events to A and B's to B, and the tenant hears both", async () => {
    const hooks = { a: await receiver(), b: await receiver(), tenant: await receiver() };
    try {
      for (const [auth, hook] of [
        [a.keys.secretKey, hooks.a],
        [b.keys.secretKey, hooks.b],
        [gw.tenant.secretKey, hooks.tenant],
      ] as const) {
        expect((await inject(gw, 'POST', '/v1/webhooks', { auth, body: { url: hook.url, events: ['ticket.dispatched', 'ticket.reported'] } })).status).toBe(
          201,
        );
      }
      const listen = (credential: { auth: string; key?: string }) => listenToEvents(gw.url, credential);
      const streams = {
        aServer: listen({ auth: a.keys.secretKey }),
        bServer: listen({ auth: b.keys.secretKey }),
        bResident: listen({ auth: b.resident, key: b.keys.publishableKey }),
        tenant: listen({ auth: gw.tenant.secretKey }),
      };
      await Promise.all(Object.values(streams).map((s) => s.ready));
      const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
      // A's ticket moves first, then B's: a stream that would show A's event shows it before B's.
      expect((await inject(gw, 'POST', `/v1/tickets/${a.ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } })).status).toBe(200);
      expect((await inject(gw, 'POST', `/v1/tickets/${b.ticket.id}/dispatch`, { auth: dispatcher, body: { unitId: 'sanitation' } })).status).toBe(200);
      await expect.poll(() => streams.bServer.received.length).toBeGreaterThan(0);
      await expect.poll(() => streams.bResident.received.length).toBeGreaterThan(0);
      await expect.poll(() => streams.aServer.received.length).toBeGreaterThan(0);
      await expect.poll(() => streams.tenant.received.length).toBeGreaterThan(1);
      expect(streams.bServer.received.map((h) => h.ticketId)).toEqual([b.ticket.id]);
      expect(streams.bResident.received.map((h) => h.ticketId)).toEqual([b.ticket.id]);
      expect(streams.aServer.received.map((h) => h.ticketId)).toEqual([a.ticket.id]);
      expect(streams.tenant.received.map((h) => h.ticketId)).toEqual([a.ticket.id, b.ticket.id]);
      for (const s of Object.values(streams)) s.close();

      await expect.poll(() => hooks.b.bodies.length).toBeGreaterThan(0);
      await expect.poll(() => hooks.a.bodies.length).toBeGreaterThan(0);
      await expect.poll(() => hooks.tenant.bodies.length).toBeGreaterThan(1);
      // A's delivery was made before B's (one pass, stream order): had B been sent A's, it would be here.
      expect(hooks.b.bodies.map((d) => d.data.event.ticketId)).toEqual([b.ticket.id]);
      expect(hooks.a.bodies.map((d) => d.data.event.ticketId)).toEqual([a.ticket.id]);
      expect(hooks.tenant.bodies.map((d) => d.data.event.ticketId)).toEqual([a.ticket.id, b.ticket.id]);
      // B cannot read, change or remove A's endpoint.
      const list = await inject(gw, 'GET', '/v1/webhooks', { auth: b.keys.secretKey });
      expect(list.body.items.every((w: { partnerId?: string }) => w.partnerId === b.id)).toBe(true);
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { active: false }],
        ['DELETE', undefined],
      ] as const) {
        expect((await inject(gw, method, `/v1/webhooks/${hookOfA.id}`, { auth: b.keys.secretKey, ...(body ? { body } : {}) })).status).toBe(404);
      }
      expect((await inject(gw, 'GET', `/v1/webhooks/${hookOfA.id}`, { auth: a.keys.secretKey })).body.active).toBe(true);
    } finally {
      await Promise.all(Object.values(hooks).map((h) => h.close()));
    }
  });

  it("a report merged across partners: B's resident follows A's ticket without learning who A's resident is", async () => {
    const dispatcher = await gw.tenant.token('disp-1', 'dispatcher');
    const fresh = await inject(gw, 'POST', '/v1/tickets', {
      auth: a.resident,
      key: a.keys.publishableKey,
      body: { ...BIN_REPORT, contact: '13911112222', reporterName: 'Li Ming', channel: 'widget' },
    });
    const duplicate = await inject(gw, 'POST', '/v1/tickets', { auth: b.resident, key: b.keys.publishableKey, body: { ...BIN_REPORT, channel: 'widget' } });
    const merged = await inject(gw, 'POST', `/v1/tickets/${duplicate.body.id}/merge`, { auth: dispatcher, body: { into: fresh.body.id } });
    expect(merged.status).toBe(200);
    const staffView = (await inject(gw, 'GET', `/v1/tickets/${fresh.body.id}`, { auth: dispatcher })).body;
    expect(staffView.followers).toEqual([`partner:${b.id}:flat-1201`]);

    for (const auth of [b.resident, b.keys.secretKey]) {
      const seen = await inject(gw, 'GET', `/v1/tickets/${fresh.body.id}`, { auth });
      expect(seen.status).toBe(200);
      expect(seen.body.reporter).toEqual({ sub: 'resident', role: 'citizen' });
      expect(seen.body.followers).toEqual([`partner:${b.id}:flat-1201`]);
      const text = JSON.stringify(seen.body);
      for (const secret of ['13911112222', 'Li Ming', `partner:${a.id}`]) expect(text).not.toContain(secret);
      const history = await inject(gw, 'GET', `/v1/tickets/${fresh.body.id}/history`, { auth });
      expect(JSON.stringify(history.body)).not.toContain(`partner:${a.id}`);
      expect(history.body.items[0].actor).toEqual({ sub: 'resident', role: 'citizen' });
    }
    // A's side sees its resident, and of B's only that a resident follows.
    const aView = await inject(gw, 'GET', `/v1/tickets/${fresh.body.id}`, { auth: a.keys.secretKey });
    expect(aView.body.reporter.contact).toBe('13911112222');
    expect(aView.body.followers).toEqual([]);
    const aHistory = await inject(gw, 'GET', `/v1/tickets/${fresh.body.id}/history`, { auth: a.resident });
    expect(JSON.stringify(aHistory.body)).not.toContain(`partner:${b.id}`);
    expect(aHistory.body.items.find((e: { type: string }) => e.type === 'follower_added').data.follower).toBe('resident');
  });
});
