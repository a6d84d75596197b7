import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop, WebhookSignatureError, verifyWebhook } from '@civicloop/sdk';
import {
  BIN_REPORT,
  inject,
  snapshotRedis,
  startTestGateway,
  startTestRedis,
  type TestGateway,
  type TestRedis,
} from '@civicloop/test-support/gateway-harness.js';

// Fast retries for the test; the defaults are in docs/configuration.md.
const FAST = { webhookAllowPrivateTargets: true, webhookPollMs: 40, webhookRetryBaseMs: 100, webhookTimeoutMs: 1000 };

interface Received {
  body: string;
  signature: string;
  delivery: string;
}

/** A webhook receiver: answers each request with the next status of `plan` (then the last one). */
async function receiver(plan: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ body, signature: String(request.headers['civicloop-signature']), delivery: String(request.headers['civicloop-delivery']) });
      response.writeHead(plan.length > 1 ? plan.shift()! : plan[0]!).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/civicloop`,
    received,
    answer: (status: number) => plan.splice(0, plan.length, status),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhooks', () => {
  let gw: TestGateway;
  let admin: CivicLoop;
  beforeAll(async () => {
    gw = await startTestGateway(FAST);
    admin = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
  });
  afterAll(async () => gw?.close());

  it('signs each delivery, retries after a 500 and logs every attempt', async () => {
    const hook = await receiver([500, 200]);
    try {
      const webhook = await admin.webhooks.create({ url: hook.url, events: ['ticket.reported', 'ticket.dispatched'] });
      expect(webhook.secret).toMatch(/^whsec_/);
      expect(await admin.webhooks.get(webhook.id)).not.toHaveProperty('secret');

      const ticket = await admin.tickets.create(BIN_REPORT);
      await until(
        () => hook.received.length,
        (n) => n >= 2,
      );
      const [first, second] = hook.received;
      expect(second!.delivery).toBe(first!.delivery);
      expect(second!.body).toBe(first!.body);
      const event = await verifyWebhook({ payload: second!.body, signature: second!.signature, secret: webhook.secret });
      expect(event).toMatchObject({
        id: second!.delivery,
        type: 'ticket.reported',
        data: { ticketNumber: ticket.number, event: { type: 'reported', ticketId: ticket.id } },
      });

      // Only what the endpoint subscribed to: dispatched yes, accepted no.
      const dispatcher = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: await gw.tenant.token('d', 'dispatcher') });
      const worker = new CivicLoop({
        baseUrl: gw.url,
        apiKey: gw.tenant.publishableKey,
        token: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
      });
      await dispatcher.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
      await worker.tickets.accept(ticket.id);
      await until(
        () => hook.received.length,
        (n) => n >= 3,
      );
      // The delivery loop reads the event stream in order: once the delivery of an event made after
      // the accept exists, the accepted event has been passed over, not merely not reached yet.
      await admin.tickets.create(BIN_REPORT);
      const log = await until(
        () => admin.webhooks.deliveries(webhook.id),
        (items) => items.length >= 3 && items.every((d) => d.state === 'delivered'),
      );
      expect(log.map((d) => [d.type, d.state, d.attempts.map((a) => a.status)])).toEqual([
        ['ticket.reported', 'delivered', [200]],
        ['ticket.dispatched', 'delivered', [200]],
        ['ticket.reported', 'delivered', [500, 200]],
      ]);
      const types = hook.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
      expect(types).toEqual(['ticket.reported', 'ticket.reported', 'ticket.dispatched', 'ticket.reported']);
      await admin.webhooks.remove(webhook.id);
    } finally {
      await hook.close();
    }
  });

  it('refuses a tampered body, another secret and an old signature', async () => {
    const secret = 'whsec_test';
    const body = JSON.stringify({ id: 'x', type: 'ticket.reported' });
    const { signPayload } = await import('./signature.js');
    const now = Math.floor(Date.now() / 1000);
    await expect(verifyWebhook({ payload: body, signature: signPayload(secret, body, now), secret })).resolves.toMatchObject({ id: 'x' });
    await expect(verifyWebhook({ payload: body.replace('x', 'y'), signature: signPayload(secret, body, now), secret })).rejects.toBeInstanceOf(
      WebhookSignatureError,
    );
    await expect(verifyWebhook({ payload: body, signature: signPayload('whsec_other', body, now), secret })).rejects.toBeInstanceOf(WebhookSignatureError);
    await expect(verifyWebhook({ payload: body, signature: signPayload(secret, body, now - 3600), secret })).rejects.toThrow(/old/);
    await expect(verifyWebhook({ payload: body, signature: undefined, secret })).rejects.toMatchObject({ code: 'CL_ERR_WEBHOOK_SIGNATURE' });
  });

  it('refuses bad endpoints with a clear code and writes nothing', async () => {
    const strict = await startTestGateway();
    try {
      const before = await snapshotRedis(strict.redis.client);
      for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.1.2.3/x', 'http://[::1]/x']) {
        const res = await inject(strict, 'POST', '/v1/webhooks', { auth: strict.tenant.secretKey, body: { url } });
        expect(res.body.error?.code, url).toBe('CL_ERR_VALIDATION');
        expect(res.body.error.message).toContain('WEBHOOK_ALLOW_PRIVATE_TARGETS');
      }
      for (const body of [
        { url: 'ftp://example.org/x' },
        { url: 'https://example.org/x', events: ['ticket.nope'] },
        { url: 'https://example.org/x', extra: 1 },
        { url: 'https://example.org/x', crs: 'epsg3857' },
      ]) {
        expect((await inject(strict, 'POST', '/v1/webhooks', { auth: strict.tenant.secretKey, body })).body.error?.code).toBe('CL_ERR_VALIDATION');
      }
      expect(await snapshotRedis(strict.redis.client)).toEqual(before);
      // A coordinate system is chosen when registering, and changed like the rest; a bad one changes nothing.
      const made = await inject(strict, 'POST', '/v1/webhooks', { auth: strict.tenant.secretKey, body: { url: 'https://example.org/x', crs: 'gcj02' } });
      expect(made.body).toMatchObject({ crs: 'gcj02' });
      const path = `/v1/webhooks/${made.body.id}`;
      const registered = await snapshotRedis(strict.redis.client);
      const refused = await inject(strict, 'PATCH', path, { auth: strict.tenant.secretKey, body: { crs: 'web-mercator' } });
      expect(refused.body.error?.code).toBe('CL_ERR_VALIDATION');
      expect(await snapshotRedis(strict.redis.client)).toEqual(registered);
      expect((await inject(strict, 'PATCH', path, { auth: strict.tenant.secretKey, body: { crs: 'bd09' } })).body).toMatchObject({ crs: 'bd09' });
      expect((await inject(strict, 'GET', path, { auth: strict.tenant.secretKey })).body).toMatchObject({ crs: 'bd09' });
      const afterCrs = await snapshotRedis(strict.redis.client);
      const asDispatcher = await inject(strict, 'POST', '/v1/webhooks', {
        auth: await strict.tenant.token('d', 'dispatcher'),
        body: { url: 'https://example.org/x' },
      });
      expect(asDispatcher.body.error.code).toBe('CL_ERR_FORBIDDEN');
      expect(await snapshotRedis(strict.redis.client)).toEqual(afterCrs);
    } finally {
      await strict.close();
    }
  });
});

describe('webhooks across a gateway restart', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => redis?.stop());

  it('loses no delivery: a failing one is retried by the next gateway, and events written while none ran are delivered', async () => {
    const hook = await receiver([503]);
    try {
      const first = await startTestGateway(FAST, { redis });
      const admin = new CivicLoop({ baseUrl: first.url, apiKey: first.tenant.secretKey });
      const webhook = await admin.webhooks.create({ url: hook.url });
      const before = await admin.tickets.create(BIN_REPORT);
      await until(
        () => hook.received.length,
        (n) => n >= 1,
      );
      await first.close();

      // While no delivery loop runs: a gateway with webhooks off takes a report.
      const quiet = await startTestGateway({ webhooksEnabled: false }, { redis });
      const during = await new CivicLoop({ baseUrl: quiet.url, apiKey: first.tenant.secretKey }).tickets.create(BIN_REPORT);
      await quiet.close();

      hook.answer(200);
      const second = await startTestGateway(FAST, { redis });
      try {
        const delivered = () => hook.received.map((r) => JSON.parse(r.body) as { data: { event: { ticketId: string } } });
        await until(delivered, (all) => [before.id, during.id].every((id) => all.some((d) => d.data.event.ticketId === id)), 15_000);
        const again = new CivicLoop({ baseUrl: second.url, apiKey: first.tenant.secretKey });
        const log = await until(
          () => again.webhooks.deliveries(webhook.id),
          (items) => items.length === 2 && items.every((d) => d.state === 'delivered'),
          15_000,
        );
        expect(log.map((d) => d.state)).toEqual(['delivered', 'delivered']);
        const firstDelivery = log.find((d) => d.attempts.length > 1)!;
        expect(firstDelivery.attempts.at(-1)!.status).toBe(200);
        expect(firstDelivery.attempts.slice(0, -1).every((a) => a.status === 503)).toBe(true);
        // Two deliveries in all, however many attempts each took.
        expect(new Set(hook.received.map((r) => r.delivery)).size).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      await hook.close();
    }
  });
});
