import mqtt from 'mqtt';
import sharp from 'sharp';
import { nativeTopic } from '@civicloop/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal, locationBody } from '@civicloop/test-support/jt808-terminal.js';

/**
 * One contract for retries: every POST either replays its first result for a repeated
 * Idempotency-Key, or is marked non-idempotent in the OpenAPI document and the SDK never retries
 * it. This walks every POST of the document, sends a real request twice with one key, and checks
 * which it is: the same status and body again, and not one key more in Redis.
 */
let gw: TestGateway;
let doc: { paths: Record<string, Record<string, { 'x-civicloop-idempotency'?: string }>> };
let tokens: Record<'dispatcher' | 'supervisor' | 'worker', string>;
let photo: Buffer;

beforeAll(async () => {
  // No background loops: they would write between the two sends.
  gw = await startTestGateway({ operatorToken: 'operator-token', brokerHookToken: 'broker-token', webhooksEnabled: false }, { telemetry: true });
  doc = (await inject(gw, 'GET', '/v1/openapi.json')).body;
  tokens = {
    dispatcher: await gw.tenant.token('disp-1', 'dispatcher'),
    supervisor: await gw.tenant.token('sup-1', 'supervisor'),
    worker: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
  };
  photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
    .jpeg()
    .toBuffer();
});
afterAll(async () => gw?.close());

type Send = { path: string; body?: unknown; auth?: string; key?: string; form?: () => FormData };
const as = (who: keyof typeof tokens) => tokens[who];
const post = (path: string, body: unknown, auth: string) => inject(gw, 'POST', path, { auth, body });

/** A ticket brought to a state through the loop, so each command has something to act on. */
async function ticketIn(state: string): Promise<string> {
  const id = (await post('/v1/tickets', BIN_REPORT, gw.tenant.secretKey)).body.id as string;
  const steps: [string, unknown, string][] = [
    ['dispatch', { unitId: 'sanitation', assigneeId: 'w-1' }, as('dispatcher')],
    ['accept', {}, as('worker')],
    ['arrive', {}, as('worker')],
    ['resolve', { photos: [{ ref: 'https://photos.example.org/after.jpg' }] }, as('worker')],
    ['verify', { outcome: 'fail', note: 'not yet' }, as('supervisor')],
    ['rework', {}, as('worker')],
    ['resolve', { photos: [{ ref: 'https://photos.example.org/after-2.jpg' }] }, as('worker')],
    ['verify', { outcome: 'pass' }, as('supervisor')],
  ];
  const stopAt: Record<string, number> = { reported: 0, dispatched: 1, accepted: 2, extension: 2, on_site: 3, resolved: 4, rework: 5, closed: 8 };
  for (const [command, body, auth] of steps.slice(0, stopAt[state])) {
    const res = await post(`/v1/tickets/${id}/${command}`, body, auth);
    expect(res.status, `${command}: ${JSON.stringify(res.body)}`).toBe(200);
  }
  if (state === 'extension') expect((await post(`/v1/tickets/${id}/request_extension`, { minutes: 60, reason: 'parts' }, as('worker'))).status).toBe(200);
  return id;
}

/** A real request for each POST operation of the document, made ready just before it is sent. */
const REQUESTS: Record<string, () => Promise<Send>> = {
  '/v1/devices/{id}/locate': async () => {
    const terminalId = String(13900000000 + (Date.now() % 1_000_000));
    const registered = await post('/v1/devices', { kind: 'vehicle', name: 'Locatable truck', protocol: 'jt808', terminalId }, gw.tenant.secretKey);
    const terminal = new Jt808Terminal(terminalId);
    await terminal.connect(gw.telemetry!.jt808Port!);
    const { code } = await terminal.register();
    expect(await terminal.authenticate(code!)).toBe(0);
    // The terminal answers the one query that reaches it (the repeat is replayed, never sent).
    void terminal
      .next((m) => m.id === 0x8201, 30_000)
      .then((query) => {
        terminal.send(
          0x0201,
          Buffer.concat([Buffer.from([query.serial >> 8, query.serial & 0xff]), locationBody({ lat: 23.14, lon: 113.31, time: Date.now() - 1000 })]),
        );
      });
    return { path: `/v1/devices/${registered.body.device.id}/locate`, auth: gw.tenant.secretKey };
  },
  '/v1/devices/{id}/photos': async () => {
    const terminalId = String(13800000000 + (Date.now() % 1_000_000));
    const registered = await post('/v1/devices', { kind: 'vehicle', name: 'Truck with a camera', protocol: 'jt808', terminalId }, gw.tenant.secretKey);
    return { path: `/v1/devices/${registered.body.device.id}/photos`, body: { channel: 2 }, auth: gw.tenant.secretKey };
  },
  '/v1/devices/{id}/alarms/confirm': async () => {
    const registered = await post(
      '/v1/devices',
      { kind: 'vehicle', name: 'Truck with an SOS', protocol: 'jt808', terminalId: '13911112222' },
      gw.tenant.secretKey,
    );
    return { path: `/v1/devices/${registered.body.device.id}/alarms/confirm`, body: { alarms: ['sos'] }, auth: as('dispatcher') };
  },
  '/v1/tickets': async () => ({ path: '/v1/tickets', body: BIN_REPORT, auth: gw.tenant.secretKey }),
  '/v1/tickets/{id}/dispatch': async () => ({
    path: `/v1/tickets/${await ticketIn('reported')}/dispatch`,
    body: { unitId: 'sanitation' },
    auth: as('dispatcher'),
  }),
  '/v1/tickets/{id}/reassign': async () => ({
    path: `/v1/tickets/${await ticketIn('dispatched')}/reassign`,
    body: { unitId: 'sanitation', assigneeId: 'w-2' },
    auth: as('dispatcher'),
  }),
  '/v1/tickets/{id}/return': async () => ({ path: `/v1/tickets/${await ticketIn('dispatched')}/return`, body: { reason: 'not ours' }, auth: as('worker') }),
  '/v1/tickets/{id}/accept': async () => ({ path: `/v1/tickets/${await ticketIn('dispatched')}/accept`, body: {}, auth: as('worker') }),
  '/v1/tickets/{id}/arrive': async () => ({ path: `/v1/tickets/${await ticketIn('accepted')}/arrive`, body: {}, auth: as('worker') }),
  '/v1/tickets/{id}/resolve': async () => ({
    path: `/v1/tickets/${await ticketIn('on_site')}/resolve`,
    body: { photos: [{ ref: 'https://photos.example.org/x.jpg' }] },
    auth: as('worker'),
  }),
  '/v1/tickets/{id}/verify': async () => ({ path: `/v1/tickets/${await ticketIn('resolved')}/verify`, body: { outcome: 'pass' }, auth: as('supervisor') }),
  '/v1/tickets/{id}/rework': async () => ({ path: `/v1/tickets/${await ticketIn('rework')}/rework`, body: {}, auth: as('worker') }),
  '/v1/tickets/{id}/reject': async () => ({ path: `/v1/tickets/${await ticketIn('reported')}/reject`, body: { reason: 'void' }, auth: as('dispatcher') }),
  '/v1/tickets/{id}/merge': async () => ({
    path: `/v1/tickets/${await ticketIn('reported')}/merge`,
    body: { into: await ticketIn('reported') },
    auth: as('dispatcher'),
  }),
  '/v1/tickets/{id}/cancel': async () => ({ path: `/v1/tickets/${await ticketIn('reported')}/cancel`, body: {}, auth: gw.tenant.secretKey }),
  '/v1/tickets/{id}/reopen': async () => ({ path: `/v1/tickets/${await ticketIn('closed')}/reopen`, body: { reason: 'came back' }, auth: as('supervisor') }),
  '/v1/tickets/{id}/feedback': async () => ({ path: `/v1/tickets/${await ticketIn('closed')}/feedback`, body: { rating: 4 }, auth: gw.tenant.secretKey }),
  '/v1/tickets/{id}/request_extension': async () => ({
    path: `/v1/tickets/${await ticketIn('accepted')}/request_extension`,
    body: { minutes: 120, reason: 'parts on order' },
    auth: as('worker'),
  }),
  '/v1/tickets/{id}/review_extension': async () => ({
    path: `/v1/tickets/${await ticketIn('extension')}/review_extension`,
    body: { approve: true },
    auth: as('dispatcher'),
  }),
  '/v1/tickets/{id}/urge': async () => {
    // Overdue: dispatched two days ago (the gateway's clock set back while it is), chased now.
    const realNow = gw.services.now;
    gw.services.now = () => new Date(Date.now() - 48 * 3_600_000);
    try {
      return { path: `/v1/tickets/${await ticketIn('dispatched')}/urge`, body: {}, auth: gw.tenant.secretKey };
    } finally {
      gw.services.now = realNow;
    }
  },
  '/v1/tickets/{id}/follow': async () => {
    // Residents follow reports the tenant publishes.
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
    return {
      path: `/v1/tickets/${await ticketIn('reported')}/follow`,
      body: { note: 'Still there this morning' },
      auth: await gw.tenant.token('resident-follows', 'citizen'),
    };
  },
  '/v1/tickets/{id}/dispatch-nearest': async () => {
    // A worker on duty nearby: their badge checks in at the bin.
    const badge = (
      await post('/v1/devices', { kind: 'badge', name: 'Nearby badge', staffId: 'w-2', unitId: 'sanitation', skills: ['cleaning'] }, gw.tenant.secretKey)
    ).body;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: badge.credential.username,
      password: badge.credential.password,
      reconnectPeriod: 0,
    });
    await client.publishAsync(
      nativeTopic(gw.tenant.id, 'badge', badge.device.id, 'event'),
      JSON.stringify({ type: 'check_in', ts: Date.now() - 1000, lat: BIN_REPORT.location.lat, lon: BIN_REPORT.location.lon }),
      { qos: 1 },
    );
    await client.endAsync();
    return { path: `/v1/tickets/${await ticketIn('reported')}/dispatch-nearest`, body: {}, auth: as('dispatcher') };
  },
  '/v1/units': async () => ({ path: '/v1/units', body: { name: 'Parks' }, auth: gw.tenant.secretKey }),
  '/v1/staff': async () => ({ path: '/v1/staff', body: { name: 'New worker', role: 'worker', unitId: 'sanitation' }, auth: gw.tenant.secretKey }),
  '/v1/zones': async () => ({
    path: '/v1/zones',
    body: {
      id: `zone-${Date.now()}`,
      name: 'Block',
      type: 'community',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [113.3, 23.1],
            [113.31, 23.1],
            [113.31, 23.11],
            [113.3, 23.1],
          ],
        ],
      },
    },
    auth: gw.tenant.secretKey,
  }),
  '/v1/webhooks': async () => ({ path: '/v1/webhooks', body: { url: 'https://hooks.example.org/civicloop' }, auth: gw.tenant.secretKey }),
  '/v1/partners': async () => ({ path: '/v1/partners', body: { name: 'Idempotent Property' }, auth: gw.tenant.secretKey }),
  // A partner of its own, rotating its publishable key with its own secret key.
  '/v1/partners/{id}/keys/rotate': async () => {
    const partner = (await post('/v1/partners', { name: 'Rotating Property' }, gw.tenant.secretKey)).body;
    return { path: `/v1/partners/${partner.partner.id}/keys/rotate`, body: { kind: 'publishable' }, auth: partner.secretKey };
  },
  '/v1/intake/hotline': async () => ({
    path: '/v1/intake/hotline',
    body: {
      records: [{ source: '12345', externalId: `H-${Date.now()}`, category: 'sanitation.bin_overflow', description: 'Bin full', lat: 23.12, lon: 113.32 }],
    },
    auth: gw.tenant.secretKey,
  }),
  '/v1/blackspots/{code}/inspections': async () => ({
    path: '/v1/blackspots/BS-NOWHERE-202601-001/inspections',
    body: { passed: true },
    auth: as('supervisor'),
  }),
  '/v1/tenants': async () => ({ path: '/v1/tenants', body: { code: `ID${Date.now() % 100000}`, name: 'Idempotent tenant' }, auth: 'operator-token' }),
  // A tenant of its own: the rotation revokes its publishable key.
  '/v1/keys/rotate': async () => ({ path: '/v1/keys/rotate', body: { kind: 'publishable' }, auth: (await gw.createTenant('ROT')).secretKey }),
  '/v1/devices': async () => ({ path: '/v1/devices', body: { kind: 'badge', name: 'Badge' }, auth: gw.tenant.secretKey }),
  '/v1/provisioning-profiles': async () => ({ path: '/v1/provisioning-profiles', body: { name: 'Badges', kind: 'badge' }, auth: gw.tenant.secretKey }),
  '/v1/provisioning-profiles/{id}/secret': async () => {
    const made = await post('/v1/provisioning-profiles', { name: 'Badges', kind: 'badge' }, gw.tenant.secretKey);
    return { path: `/v1/provisioning-profiles/${made.body.profile.id}/secret`, auth: gw.tenant.secretKey };
  },
  '/v1/devices/{id}/credentials': async () => {
    const device = await post('/v1/devices', { kind: 'vehicle', name: 'Truck' }, gw.tenant.secretKey);
    return { path: `/v1/devices/${device.body.device.id}/credentials`, auth: gw.tenant.secretKey };
  },
  '/v1/broker/emqx/authenticate': async () => {
    const device = await post('/v1/devices', { kind: 'badge', name: 'Badge on EMQX' }, gw.tenant.secretKey);
    return {
      path: '/v1/broker/emqx/authenticate',
      body: { clientid: 'c', username: device.body.credential.username, password: device.body.credential.password },
      auth: 'broker-token',
    };
  },
  '/v1/broker/emqx/authorize': async () => ({
    path: '/v1/broker/emqx/authorize',
    body: { tenant: gw.tenant.id, device: 'no-such-device', username: 'u', topic: 't', action: 'publish' },
    auth: 'broker-token',
  }),
  '/v1/residents/anonymous': async () => ({ path: '/v1/residents/anonymous', key: gw.tenant.publishableKey }),
  '/v1/residents/anonymous/token': async () => {
    const identity = (await inject(gw, 'POST', '/v1/residents/anonymous', { key: gw.tenant.publishableKey })).body;
    return {
      path: '/v1/residents/anonymous/token',
      body: { residentId: identity.residentId, deviceSecret: identity.deviceSecret },
      key: gw.tenant.publishableKey,
    };
  },
  '/v1/media': async () => ({
    path: '/v1/media',
    auth: gw.tenant.secretKey,
    form: () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
      return form;
    },
  }),
};

/** The same request with one harmless field changed: a different request for the same key. */
function vary(body: Record<string, unknown>): Record<string, unknown> {
  for (const field of ['description', 'name', 'deviceSecret', 'url'])
    if (typeof body[field] === 'string') return { ...body, [field]: `${body[field] as string}-again` };
  if (Array.isArray(body.records)) return { ...body, records: (body.records as Record<string, unknown>[]).map((r) => ({ ...r, description: 'Another case' })) };
  if (body.kind === 'publishable') return { ...body, kind: 'secret' };
  if (typeof body.rating === 'number') return { ...body, rating: body.rating === 5 ? 4 : 5 };
  if (Array.isArray(body.alarms)) return { ...body, alarms: ['danger_warning'] };
  if (typeof body.channel === 'number') return { ...body, channel: body.channel + 1 };
  return { ...body, note: 'a different request' };
}

async function send(request: Send, key: string) {
  const headers: Record<string, string> = { 'idempotency-key': key };
  if (request.auth) headers.authorization = `Bearer ${request.auth}`;
  if (request.key) headers['x-civicloop-key'] = request.key;
  let body: BodyInit | undefined;
  if (request.form) body = request.form();
  else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  const response = await fetch(gw.url + request.path, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
  const json = (await response.json()) as Record<string, unknown>;
  // The request id is the one thing that differs between two answers to the same request.
  if (json.error && typeof json.error === 'object') delete (json.error as { requestId?: string }).requestId;
  return { status: response.status, body: json, replayed: response.headers.get('idempotent-replayed') };
}

describe('the retry contract of every POST', () => {
  it('marks every POST of the OpenAPI document with one of the kinds the SDK may retry', () => {
    const posts = Object.entries(doc.paths).filter(([, ops]) => ops.post);
    expect(posts.length).toBeGreaterThan(25);
    for (const [path, ops] of posts) expect(['native', 'replay', 'content'], path).toContain(ops.post!['x-civicloop-idempotency']);
    // Every POST has a request below: a new route cannot slip past this test.
    expect(posts.map(([path]) => path).sort()).toEqual(Object.keys(REQUESTS).sort());
  });

  it('answers a repeated Idempotency-Key with the first result and writes nothing more, on every POST', { timeout: 120_000 }, async () => {
    for (const [path, ops] of Object.entries(doc.paths).filter(([, o]) => o.post)) {
      const kind = ops.post!['x-civicloop-idempotency'];
      const request = await REQUESTS[path]!();
      const key = `contract-${path.replace(/\W+/g, '-')}-${Date.now()}`;
      const keptBefore = (await gw.redis.client.keys('cl:*idemr:*')).length;
      const first = await send(request, key);
      // Each request is a real one that succeeds (the inspection of a spot that does not exist aside).
      expect(first.status, `${path}: ${JSON.stringify(first.body)}`).toBeLessThan(path.startsWith('/v1/blackspots') ? 500 : 300);
      // A native route's first answer is kept too (its route names the scope it is kept under):
      // without it a repeat would answer the ticket as it is by then, not the first answer.
      if (kind === 'native') expect((await gw.redis.client.keys('cl:*idemr:*')).length, path).toBe(keptBefore + 1);
      const after = await snapshotRedis(gw.redis.client);
      const second = await send(request, key);
      expect({ status: second.status, body: second.body }, path).toEqual({ status: first.status, body: first.body });
      if (first.status < 300 && kind !== 'content') expect(second.replayed, path).toBe('true');
      // Nothing more was done: not one key changed (a replayed create allocates no number, a
      // replayed rotation revokes nothing).
      expect(await snapshotRedis(gw.redis.client), path).toEqual(after);
      // The same key for a different request is refused, for the kinds that remember the request.
      if (kind !== 'content' && first.status < 300 && request.body !== undefined && typeof request.body === 'object') {
        const other = await send({ ...request, body: vary(request.body as Record<string, unknown>) }, key);
        expect([other.status, (other.body.error as { code?: string })?.code], path).toEqual([422, 'CL_ERR_IDEMPOTENCY_KEY_REUSED']);
      }
    }
  });

  it('lets only one of two simultaneous copies run; the other waits its turn or gets the same answer', async () => {
    const key = `contract-concurrent-${Date.now()}`;
    const request = { path: '/v1/devices', body: { kind: 'badge', name: 'Badge sent twice at once' }, auth: gw.tenant.secretKey };
    const [a, b] = await Promise.all([send(request, key), send(request, key)]);
    const statuses = [a.status, b.status].sort();
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses);
    if (statuses[1] === 409)
      expect([a, b].find((r) => r.status === 409)!.body.error).toMatchObject({ code: 'CL_ERR_IDEMPOTENCY_IN_PROGRESS', retryable: true });
    const again = await send(request, key);
    expect(again.body).toEqual([a, b].find((r) => r.status === 201)!.body);
    const devices = (await inject(gw, 'GET', '/v1/devices', { auth: gw.tenant.secretKey })).body.items as { name: string }[];
    expect(devices.filter((d) => d.name === 'Badge sent twice at once')).toHaveLength(1);
  });
});
