import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CivicLoop } from './client.js';
import { AuthenticationError, ConflictError, ConnectionError, InvalidRequestError } from './errors.js';
import { signToken } from '@civicloop/model';

let gw: TestGateway;
const as = async (sub: string, role: Parameters<typeof signToken>[0]['role'], unitId?: string) =>
  new CivicLoop({
    baseUrl: gw.url,
    apiKey: gw.tenant.publishableKey,
    token: await signToken({ secretKey: gw.tenant.secretKey, sub, role, ...(unitId ? { unitId } : {}) }),
  });

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('the whole loop through the SDK against a real gateway and Redis', () => {
  it('report -> dispatch -> accept -> arrive -> resolve -> verify fail -> rework -> resolve -> verify pass -> closed -> feedback', async () => {
    const resident = await as('resident-42', 'citizen');
    const dispatcher = await as('disp-1', 'dispatcher');
    const worker = await as('w-1', 'worker', 'sanitation');
    const supervisor = await as('sup-1', 'supervisor');

    const reported = await resident.tickets.create({ ...BIN_REPORT, channel: 'widget' });
    expect(reported.status).toBe('reported');
    expect(reported.number).toMatch(new RegExp(`^${gw.tenant.code}-\\d{8}-\\d{4}$`));

    const steps: [string, () => Promise<{ ticket: { status: string } }>][] = [
      ['dispatched', () => dispatcher.tickets.dispatch(reported.id, { unitId: 'sanitation', assigneeId: 'w-1', note: 'nearest crew' })],
      ['accepted', () => worker.tickets.accept(reported.id)],
      ['on_site', () => worker.tickets.arrive(reported.id)],
      ['resolved', () => worker.tickets.resolve(reported.id, { photos: [{ ref: 'https://photos.example.org/after-1.jpg' }], note: 'emptied' })],
      ['rework', () => supervisor.tickets.verify(reported.id, { outcome: 'fail', note: 'litter left behind the bin' })],
      ['on_site', () => worker.tickets.rework(reported.id)],
      ['resolved', () => worker.tickets.resolve(reported.id, { photos: [{ ref: 'https://photos.example.org/after-2.jpg' }] })],
      ['closed', () => supervisor.tickets.verify(reported.id, { outcome: 'pass' })],
      ['closed', () => resident.tickets.feedback(reported.id, { rating: 5, comment: 'fast and clean' })],
    ];
    for (const [expected, run] of steps) expect((await run()).ticket.status).toBe(expected);

    const final = await resident.tickets.get(reported.id);
    expect(final).toMatchObject({
      status: 'closed',
      reworkCount: 1,
      afterPhotos: [{ ref: 'https://photos.example.org/after-2.jpg' }],
      feedback: { rating: 5, sameDay: true },
    });
    expect(final.sla?.resolveBy).toBeDefined();

    const history = await resident.tickets.history(reported.id);
    expect(history.map((e) => [e.type, e.actor.sub, e.actor.role])).toEqual([
      ['reported', 'resident-42', 'citizen'],
      ['dispatched', 'disp-1', 'dispatcher'],
      ['accepted', 'w-1', 'worker'],
      ['arrived', 'w-1', 'worker'],
      ['resolved', 'w-1', 'worker'],
      ['rework_requested', 'sup-1', 'supervisor'],
      ['rework_started', 'w-1', 'worker'],
      ['resolved', 'w-1', 'worker'],
      ['verified', 'sup-1', 'supervisor'],
      ['feedback_recorded', 'resident-42', 'citizen'],
    ]);
    const times = history.map((e) => Date.parse(e.at));
    expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]!))).toBe(true);
    expect(history.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(history[5]!.note).toBe('litter left behind the bin');
  });

  it('turns refusals into typed errors with their codes', async () => {
    const resident = await as('resident-43', 'citizen');
    const worker = await as('w-1', 'worker', 'sanitation');
    const created = await resident.tickets.create(BIN_REPORT);
    const wrongState = await worker.tickets.arrive(created.id).catch((e) => e);
    expect(wrongState).toBeInstanceOf(ConflictError);
    expect(wrongState.code).toBe('CL_ERR_INVALID_TRANSITION');
    const bad = await resident.tickets.create({ ...BIN_REPORT, category: 'nope' }).catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect(bad.code).toBe('CL_ERR_UNKNOWN_CATEGORY');
    const forged = new CivicLoop({ baseUrl: gw.url, token: await signToken({ secretKey: `cl_sk_${gw.tenant.id}.not-the-secret`, sub: 'x', role: 'admin' }) });
    await expect(forged.tickets.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('rotates a key: the old one is refused, the new one works', async () => {
    const tenant = await gw.createTenant('K');
    const old = new CivicLoop({ baseUrl: gw.url, apiKey: tenant.secretKey, maxRetries: 0 });
    const fresh = await old.rotateKey('secret');
    await expect(old.me()).rejects.toBeInstanceOf(AuthenticationError);
    const current = new CivicLoop({ baseUrl: gw.url, apiKey: fresh });
    expect((await current.me()).tenant.id).toBe(tenant.id);
  });

  it('walks every page with for await', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    for (let i = 0; i < 7; i++) await server.tickets.create({ ...BIN_REPORT, category: 'greenery.fallen_tree', description: `tree ${i}` });
    const seen: string[] = [];
    for await (const ticket of server.tickets.list({ category: 'greenery.fallen_tree', limit: 3 })) seen.push(ticket.description);
    expect(seen).toEqual(['tree 6', 'tree 5', 'tree 4', 'tree 3', 'tree 2', 'tree 1', 'tree 0']);
    const first = await server.tickets.list({ category: 'greenery.fallen_tree', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
  });

  it('manages units and staff', async () => {
    const admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const unit = await admin.units.create({ id: 'greenery', name: 'Greenery', categories: ['greenery.fallen_tree'] });
    expect(unit.active).toBe(true);
    const person = await admin.staff.create({ id: 'w-9', name: 'Tree Surgeon', role: 'worker', unitId: 'greenery', skills: ['tree'] });
    expect(person.unitId).toBe('greenery');
    const again = await admin.units.create({ id: 'greenery', name: 'Other' }).catch((e) => e);
    expect(again.code).toBe('CL_ERR_ALREADY_EXISTS');
    const orphan = await admin.staff.create({ name: 'Nobody', role: 'worker', unitId: 'no-such-unit' }).catch((e) => e);
    expect(orphan.code).toBe('CL_ERR_UNKNOWN_UNIT');
    await admin.staff.update('w-9', { active: false });
    expect((await admin.staff.list()).find((s) => s.id === 'w-9')?.active).toBe(false);
    const dispatcher = await as('disp-1', 'dispatcher');
    const tree = await admin.tickets.create({ ...BIN_REPORT, category: 'greenery.fallen_tree' });
    const inactive = await dispatcher.tickets.dispatch(tree.id, { unitId: 'greenery', assigneeId: 'w-9' }).catch((e) => e);
    expect(inactive.code).toBe('CL_ERR_UNKNOWN_STAFF');
  });

  it('subscribe() resumes by itself after the gateway drops the stream, missing nothing', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey, retryBaseDelayMs: 10 });
    const reconnects: (string | undefined)[] = [];
    const subscription = server.subscribe({ onReconnect: (id) => reconnects.push(id) });
    const received: string[] = [];
    const created: string[] = [];
    const consumer = (async () => {
      for await (const event of subscription) {
        received.push(event.event.ticketId);
        if (received.length === 6) break;
      }
    })();
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(check()).toBe(true);
    };
    await waitFor(() => gw.streams.size === 1);
    for (let i = 0; i < 3; i++) created.push((await server.tickets.create(BIN_REPORT)).id);
    await waitFor(() => received.length === 3);
    gw.streams.closeAll();
    for (let i = 0; i < 3; i++) created.push((await server.tickets.create(BIN_REPORT)).id);
    await consumer;
    subscription.close();
    expect(received).toEqual(created);
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    expect(reconnects[0]).toMatch(/^\d+-\d+$/);
  });
});

describe('what the SDK tells apart', () => {
  it('reports a failing getToken as an authentication failure, not as the network, and does not retry it', async () => {
    let calls = 0;
    const expired = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      retryBaseDelayMs: 1,
      token: () => {
        calls++;
        throw new Error('the portal session expired');
      },
    });
    const refused = await expired.tickets.get('tk_whatever').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(refused).toMatchObject({ code: 'CL_ERR_TOKEN_UNAVAILABLE', status: 0, retryable: false });
    expect(refused).not.toBeInstanceOf(ConnectionError);
    expect(calls).toBe(1);
    const empty = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: async () => '' });
    await expect(empty.tickets.get('tk_whatever')).rejects.toMatchObject({ code: 'CL_ERR_TOKEN_UNAVAILABLE' });
    // A getToken that knows it could not reach its own server says so, and is retried like a network failure.
    let offlineCalls = 0;
    const offline = new CivicLoop({
      baseUrl: gw.url,
      maxRetries: 2,
      retryBaseDelayMs: 1,
      token: () => {
        offlineCalls++;
        throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: 'portal unreachable', status: 0, retryable: true });
      },
    });
    await expect(offline.tickets.get('tk_whatever')).rejects.toBeInstanceOf(ConnectionError);
    expect(offlineCalls).toBe(3);
    // The event stream stops with the same error instead of retrying forever.
    const subscription = expired.subscribe();
    await expect(subscription[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'CL_ERR_TOKEN_UNAVAILABLE' });
  });

  it('subscribe() misses nothing when the connection drops before the first event arrives', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey, retryBaseDelayMs: 10 });
    const states: string[] = [];
    const subscription = server.subscribe({ onOpen: () => states.push('open'), onDisconnect: () => states.push('down') });
    const received: string[] = [];
    const consumer = (async () => {
      for await (const event of subscription) {
        received.push(event.event.ticketId);
        break;
      }
    })();
    for (let i = 0; i < 250 && !states.includes('open'); i++) await new Promise((r) => setTimeout(r, 20));
    // Open, nothing received yet: the stream drops, and a ticket is reported before it is back.
    gw.streams.closeAll();
    const missed = await server.tickets.create(BIN_REPORT);
    await consumer;
    subscription.close();
    expect(received).toEqual([missed.id]);
    expect(states.slice(0, 3)).toEqual(['open', 'down', 'open']);
  });
});

describe('photos and anonymous residents through the SDK', () => {
  it('uploads a photo with a resident token and files a report that carries it', async () => {
    const { default: sharp } = await import('sharp');
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
      .jpeg()
      .toBuffer();
    const resident = await as('resident-media', 'citizen');
    const photo = await resident.media.upload(new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'bin.jpg');
    expect(photo).toMatchObject({ contentType: 'image/jpeg', width: 64, height: 48 });
    expect(photo.ref).toMatch(/^media:/);
    // The upload's own link is signed for the uploader; the bare reference needs credentials.
    const served = await fetch(resident.media.url(photo.url));
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect((await fetch(resident.media.url(photo.ref))).status).toBe(404);
    const ticket = await resident.tickets.create({ ...BIN_REPORT, photos: [{ ref: photo.ref }] });
    expect(ticket.photos).toEqual([{ ref: photo.ref, url: expect.stringContaining('sig=') }]);
    expect((await fetch(resident.media.url(ticket.photos[0]!))).status).toBe(200);
  });

  it('refuses a file that is not an image with a typed error', async () => {
    const resident = await as('resident-media', 'citizen');
    await expect(resident.media.upload(new Blob(['not a photo at all']), 'fake.jpg')).rejects.toMatchObject({ code: 'CL_ERR_MEDIA_TYPE' });
  });

  it('gives a browser an anonymous identity whose reports it alone can list, and renews its token', async () => {
    const browser = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey });
    const identity = await browser.residents.createAnonymous();
    expect(identity.residentId).toMatch(/^anon:/);
    const asResident = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: identity.token });
    const mine = await asResident.tickets.create(BIN_REPORT);
    const renewed = await browser.residents.renewAnonymous(identity);
    const later = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: renewed.token });
    const listed = await later.tickets.list().toArray();
    expect(listed.map((t) => t.id)).toEqual([mine.id]);
    await expect(browser.residents.renewAnonymous({ residentId: identity.residentId, deviceSecret: 'x'.repeat(32) })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });
});
