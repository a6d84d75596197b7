import { randomId } from './random-id.js';
/**
 * What the SDK takes from its runtime. Browsers, Node and edge runtimes have all of it; an adapter
 * for a runtime without (the WeChat mini-program one: @civicloop/sdk/wechat) passes stand-ins, so
 * that a browser bundle does not carry them.
 */
export interface SignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface Runtime {
  /** An id unique enough for idempotency keys. */
  randomId(): string;
  /** An AbortController, or something that behaves as one for the SDK's own use. */
  abortController(): { signal: SignalLike; abort(reason?: unknown): void };
  /** UTF-8 bytes to text as they arrive, a character split between chunks kept until it is whole. */
  utf8Decoder(): (bytes: Uint8Array) => string;
}

export const webRuntime: Runtime = {
  // Not crypto.randomUUID directly: it is missing outside secure contexts (random-id.ts).
  randomId,
  abortController: () => new AbortController() as unknown as { signal: SignalLike; abort(reason?: unknown): void },
  utf8Decoder: () => {
    const decoder = new TextDecoder();
    return (bytes) => decoder.decode(bytes, { stream: true });
  },
};

/** Path plus query, without URL: each name and value percent-encoded. */
export function withQuery(base: string, query: Record<string, string | number | boolean | undefined> | undefined): string {
  const pairs = Object.entries(query ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? base : `${base}${base.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}
