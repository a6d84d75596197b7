import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CivicLoop } from './client.js';
import { AbortError, ConflictError, ConnectionError, InvalidRequestError, NotFoundError, RateLimitError, ServerError, TimeoutError } from './errors.js';

// msw pins what a real gateway cannot produce on demand: 503s, dropped connections, slow answers.
const BASE = 'http://gateway.test';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const client = (overrides = {}) => new CivicLoop({ baseUrl: BASE, apiKey: 'cl_sk_t_x.secret', retryBaseDelayMs: 1, maxRetries: 3, ...overrides });
const errorBody = (code: string, status: number, retryable = false) => ({
  error: { code, message: `${code} happened`, status, retryable, requestId: 'req-1' },
});
const ticket = { id: 'tk_1', number: 'T-20261121-0001', status: 'reported' };
const report = { category: 'sanitation.bin_overflow', description: 'bin', location: { lat: 23.1, lon: 113.2 } };

describe('retries', () => {
  it('retries 503 with the same Idempotency-Key until it succeeds', async () => {
    const keys: (string | null)[] = [];
    server.use(
      http.post(`${BASE}/v1/tickets`, ({ request }) => {
        keys.push(request.headers.get('idempotency-key'));
        return keys.length < 3 ? HttpResponse.json(errorBody('CL_ERR_UNAVAILABLE', 503, true), { status: 503 }) : HttpResponse.json(ticket, { status: 201 });
      }),
    );
    await expect(client().tickets.create(report)).resolves.toEqual(ticket);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^sdk-/);
    expect(new Set(keys).size).toBe(1);
  });

  it('retries a dropped connection', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/v1/tickets/tk_1`, () => {
        calls++;
        return calls === 1 ? HttpResponse.error() : HttpResponse.json(ticket);
      }),
    );
    await expect(client().tickets.get('tk_1')).resolves.toEqual(ticket);
    expect(calls).toBe(2);
  });

  it('honours Retry-After on 429', async () => {
    // Time is the subject: fake timers, so the second second is not waited for.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const times: number[] = [];
      let firstArrived!: () => void;
      const arrived = new Promise<void>((resolve) => {
        firstArrived = resolve;
      });
      server.use(
        http.get(`${BASE}/v1/tickets/tk_1`, () => {
          times.push(Date.now());
          firstArrived();
          return times.length === 1
            ? HttpResponse.json(errorBody('CL_ERR_RATE_LIMITED', 429, true), { status: 429, headers: { 'retry-after': '1' } })
            : HttpResponse.json(ticket);
        }),
      );
      const answer = client().tickets.get('tk_1');
      await arrived;
      // The 1 ms backoff the client is given would have retried long before this.
      await vi.advanceTimersByTimeAsync(990);
      expect(times).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(20);
      await expect(answer).resolves.toEqual(ticket);
      expect(times).toHaveLength(2);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries a 409 only when the gateway marks it retryable', async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/v1/tickets/tk_1/accept`, () => {
        calls++;
        return HttpResponse.json(errorBody('CL_ERR_VERSION_CONFLICT', 409, false), { status: 409 });
      }),
    );
    const error = await client()
      .tickets.accept('tk_1')
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('CL_ERR_VERSION_CONFLICT');
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries with the last error', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/v1/tickets/tk_1`, () => {
        calls++;
        return HttpResponse.json(errorBody('CL_ERR_INTERNAL', 500, true), { status: 500 });
      }),
    );
    const error = await client({ maxRetries: 2 })
      .tickets.get('tk_1')
      .catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.requestId).toBe('req-1');
    expect(calls).toBe(3);
  });

  it('does not retry client errors, and types them', async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/v1/tickets`, () => {
        calls++;
        return HttpResponse.json(errorBody('CL_ERR_UNKNOWN_CATEGORY', 422), { status: 422 });
      }),
      http.get(`${BASE}/v1/tickets/nope`, () => HttpResponse.json(errorBody('CL_ERR_NOT_FOUND', 404), { status: 404 })),
    );
    const error = await client()
      .tickets.create(report)
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('CL_ERR_UNKNOWN_CATEGORY');
    expect(calls).toBe(1);
    await expect(client().tickets.get('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('waits with exponential backoff and jitter, capped', () => {
    const c = client({ retryBaseDelayMs: 100, retryMaxDelayMs: 1000 }) as unknown as { transport: { delay(a: number, r?: number): number } };
    const samples = Array.from({ length: 200 }, () => c.transport.delay(3));
    expect(Math.max(...samples)).toBeLessThanOrEqual(800);
    expect(new Set(samples.map((s) => Math.round(s))).size).toBeGreaterThan(20);
    expect(c.transport.delay(10)).toBeLessThanOrEqual(1000);
    expect(c.transport.delay(0, 5000)).toBe(1000);
  });

  it('throws a RateLimitError when 429s never stop', async () => {
    server.use(
      http.get(`${BASE}/v1/tickets/tk_1`, () =>
        HttpResponse.json(errorBody('CL_ERR_RATE_LIMITED', 429, true), { status: 429, headers: { 'retry-after': '0' } }),
      ),
    );
    await expect(client({ maxRetries: 1 }).tickets.get('tk_1')).rejects.toBeInstanceOf(RateLimitError);
  });
});

describe('timeouts and cancellation', () => {
  it('times out a slow attempt and retries it', async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/v1/tickets/tk_1`, async () => {
        calls++;
        if (calls === 1) await delay(500);
        return HttpResponse.json(ticket);
      }),
    );
    await expect(client({ timeoutMs: 100 }).tickets.get('tk_1')).resolves.toEqual(ticket);
    expect(calls).toBe(2);
  });

  it('throws TimeoutError when every attempt is too slow', async () => {
    server.use(http.get(`${BASE}/v1/tickets/tk_1`, async () => (await delay(300), HttpResponse.json(ticket))));
    const error = await client({ timeoutMs: 50, maxRetries: 1 })
      .tickets.get('tk_1')
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('CL_ERR_TIMEOUT');
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/v1/tickets/tk_1`, async () => (calls++, await delay(1000), HttpResponse.json(ticket))));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await client()
      .tickets.get('tk_1', { signal: controller.signal })
      .catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(calls).toBe(1);
  });

  it('reports an unreachable gateway as a ConnectionError after retries', async () => {
    server.use(http.get(`${BASE}/v1/categories`, () => HttpResponse.error()));
    const error = await client({ maxRetries: 1 })
      .categories()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe('CL_ERR_NETWORK');
  });
});

describe('credentials', () => {
  it('sends a publishable key as X-CivicLoop-Key and a token as the bearer', async () => {
    let seen: Record<string, string | null> = {};
    server.use(
      http.get(`${BASE}/v1/me`, ({ request }) => {
        seen = { key: request.headers.get('x-civicloop-key'), auth: request.headers.get('authorization') };
        return HttpResponse.json({});
      }),
    );
    await new CivicLoop({ baseUrl: BASE, apiKey: 'cl_pk_t_x.pub', token: async () => 'resident-token' }).me();
    expect(seen).toEqual({ key: 'cl_pk_t_x.pub', auth: 'Bearer resident-token' });
  });

  it('refuses to construct without credentials or a baseUrl', () => {
    expect(() => new CivicLoop({ baseUrl: BASE })).toThrow(/apiKey/);
    expect(() => new CivicLoop({ baseUrl: '', apiKey: 'x' })).toThrow(/baseUrl/);
  });
});
