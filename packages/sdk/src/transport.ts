import { webRuntime, withQuery, type Runtime } from './runtime.js';
import { AbortError, AuthenticationError, CivicLoopApiError, ConnectionError, TimeoutError, errorFromResponse } from './errors.js';

export interface TransportOptions {
  baseUrl: string;
  /** A secret key (servers) or a publishable key (browsers). */
  apiKey?: string;
  /** A token signed by the host platform, or a function that returns a fresh one. */
  token?: string | (() => string | Promise<string>);
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** First backoff step; doubles each retry, with full jitter. Default 300 ms. */
  retryBaseDelayMs?: number;
  /** Longest wait between attempts (Retry-After included). Default 20 000 ms. */
  retryMaxDelayMs?: number;
  /** fetch implementation. Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** For adapters to runtimes without web APIs (@civicloop/sdk/wechat): stand-ins for crypto.randomUUID, AbortController and TextDecoder. */
  runtime?: Runtime;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** For POSTs: reuse a key to make a retry from your own code safe too. Generated if absent. */
  idempotencyKey?: string;
}

export interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  options?: RequestOptions;
}

export const DEFAULTS = {
  timeoutMs: 10_000,
  maxRetries: 3,
  retryBaseDelayMs: 300,
  retryMaxDelayMs: 20_000,
} as const;

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export function newIdempotencyKey(runtime: Runtime = webRuntime): string {
  return `sdk-${runtime.randomId()}`;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** AbortSignal.any where the runtime has it (Node 20.3+, current browsers), else the same by hand. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native.call(AbortSignal, signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** A signal that aborts after ms; none where the runtime has no AbortSignal (its fetch keeps time itself). */
function timeoutSignal(ms: number): AbortSignal | undefined {
  if (typeof AbortSignal === 'undefined') return undefined;
  if (typeof AbortSignal.timeout === 'function') return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')), ms);
  return controller.signal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** HTTP with the retry policy: network errors, 408, retryable 409, 429 and 5xx, honouring Retry-After. */
export class Transport {
  readonly options: Required<Pick<TransportOptions, 'timeoutMs' | 'maxRetries' | 'retryBaseDelayMs' | 'retryMaxDelayMs'>> & TransportOptions;

  constructor(options: TransportOptions) {
    if (!options.baseUrl) throw new TypeError('CivicLoop: baseUrl is required (e.g. http://127.0.0.1:8080)');
    this.options = { ...DEFAULTS, ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  private get fetchImpl(): typeof fetch {
    return this.options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers, ...extra };
    const { apiKey, token } = this.options;
    if (apiKey?.startsWith('cl_pk_')) headers['x-civicloop-key'] = apiKey;
    else if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (token) headers.authorization = `Bearer ${typeof token === 'function' ? await this.freshToken(token) : token}`;
    return headers;
  }

  /**
   * A token from the host's getToken. Its failure is an authentication failure (the session
   * ended, the sign-in service refused), never a network error to retry or queue: the user must
   * sign in again. A getToken that knows better may throw a CivicLoopApiError itself, e.g. a
   * ConnectionError when it could not reach its own server.
   */
  private async freshToken(getToken: () => string | Promise<string>): Promise<string> {
    let token: unknown;
    try {
      token = await getToken();
    } catch (error) {
      if (error instanceof CivicLoopApiError) throw error;
      throw new AuthenticationError(
        { code: 'CL_ERR_TOKEN_UNAVAILABLE', message: `getToken failed (${(error as Error)?.message ?? String(error)}); sign the user in again.`, status: 0 },
        { cause: error },
      );
    }
    if (typeof token !== 'string' || token === '')
      throw new AuthenticationError({ code: 'CL_ERR_TOKEN_UNAVAILABLE', message: 'getToken returned no token; sign the user in again.', status: 0 });
    return token;
  }

  url(path: string, query?: Request['query']): string {
    return withQuery(this.options.baseUrl + path, query);
  }

  /** Backoff before retry number `attempt` (0-based): full jitter, or what Retry-After asks. */
  delay(attempt: number, retryAfter?: number): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.options.retryMaxDelayMs);
    const ceiling = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** attempt);
    return Math.random() * ceiling;
  }

  async request<T>(request: Request): Promise<T> {
    const { method, path, query, body, options = {} } = request;
    // Every POST carries a key, and the same key on every retry, so a retry never acts twice.
    const idempotencyKey = method === 'POST' ? (options.idempotencyKey ?? newIdempotencyKey(this.options.runtime)) : undefined;
    const url = this.url(path, query);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    let attempt = 0;
    for (;;) {
      const extra: Record<string, string> = {};
      // A FormData body (uploads) or a Blob (a CSV file) goes as is, with its own content type.
      const raw = (typeof FormData !== 'undefined' && body instanceof FormData) || (typeof Blob !== 'undefined' && body instanceof Blob);
      if (body !== undefined && !raw) extra['content-type'] = 'application/json';
      if (idempotencyKey) extra['idempotency-key'] = idempotencyKey;
      let retryAfter: number | undefined;
      let failure: CivicLoopApiError;
      const timeout = timeoutSignal(timeoutMs);
      const signal = options.signal && timeout ? anySignal([options.signal, timeout]) : (options.signal ?? timeout);
      try {
        const response = await this.fetchImpl(url, {
          method,
          headers: await this.headers(extra),
          ...(body !== undefined ? { body: raw ? (body as FormData | Blob) : JSON.stringify(body) } : {}),
          ...(signal ? { signal } : {}),
          // For a fetch that keeps time itself (a mini-program's, which has no AbortSignal).
          timeoutMs,
        } as RequestInit);
        const requestId = response.headers.get('x-request-id') ?? undefined;
        const text = await response.text();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        if (response.ok) return parsed as T;
        failure = errorFromResponse(response.status, (parsed as { error?: never } | undefined)?.error, requestId);
        retryAfter = retryAfterMs(response.headers.get('retry-after'));
        const retry = RETRY_STATUSES.has(response.status) || (response.status === 409 && failure.retryable);
        if (!retry) throw failure;
      } catch (error) {
        if (error instanceof CivicLoopApiError && !(error instanceof ConnectionError)) {
          if (!error.retryable && !RETRY_STATUSES.has(error.status)) throw error;
          failure = error;
        } else if (options.signal?.aborted) {
          throw new AbortError({ code: 'CL_ERR_ABORTED', message: 'The request was aborted by its AbortSignal.', status: 0 }, { cause: error });
        } else if (timeout?.aborted || (error as { name?: unknown } | undefined)?.name === 'TimeoutError') {
          failure = new TimeoutError(
            { code: 'CL_ERR_TIMEOUT', message: `No response within ${timeoutMs} ms (timeoutMs).`, status: 0, retryable: true },
            { cause: error },
          );
        } else {
          failure = new ConnectionError(
            { code: 'CL_ERR_NETWORK', message: `Could not reach ${this.options.baseUrl}: ${(error as Error)?.message ?? error}`, status: 0, retryable: true },
            { cause: error },
          );
        }
      }
      if (attempt >= this.options.maxRetries) throw failure;
      try {
        await sleep(this.delay(attempt, retryAfter), options.signal);
      } catch (error) {
        throw new AbortError({ code: 'CL_ERR_ABORTED', message: 'The request was aborted by its AbortSignal.', status: 0 }, { cause: error });
      }
      attempt++;
    }
  }
}
