import { randomId } from './random-id.js';

export { randomId };
import type { Runtime, SignalLike } from './runtime.js';

/**
 * The SDK's runtime needs met without web APIs, for the WeChat mini-program runtime (and any
 * other small one): there is no crypto.randomUUID, no AbortController and no TextDecoder there.
 * Only the adapters that need it import this.
 */

/** An AbortController where the runtime has one; otherwise one that does the same for the SDK's own use. */
export function abortController(): { signal: SignalLike; abort(reason?: unknown): void } {
  if (typeof AbortController === 'function') return new AbortController() as unknown as { signal: SignalLike; abort(reason?: unknown): void };
  const listeners = new Set<() => void>();
  const signal = {
    aborted: false,
    reason: undefined as unknown,
    addEventListener: (_type: 'abort', listener: () => void) => void listeners.add(listener),
    removeEventListener: (_type: 'abort', listener: () => void) => void listeners.delete(listener),
  };
  return {
    signal,
    abort(reason?: unknown) {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason ?? new Error('aborted');
      for (const listener of [...listeners]) listener();
      listeners.clear();
    },
  };
}

/**
 * UTF-8 bytes to text as they arrive: TextDecoder with { stream: true } where the runtime has it,
 * else a decoder that keeps a character split between chunks until its last byte comes.
 */
export function utf8Decoder(): (bytes: Uint8Array) => string {
  if (typeof TextDecoder === 'function') {
    const decoder = new TextDecoder();
    return (bytes) => decoder.decode(bytes, { stream: true });
  }
  let pending: number[] = [];
  return (bytes) => {
    const all = pending.length ? [...pending, ...bytes] : [...bytes];
    pending = [];
    let out = '';
    let i = 0;
    while (i < all.length) {
      const first = all[i]!;
      const length = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
      if (i + length > all.length) {
        pending = all.slice(i);
        break;
      }
      let code = length === 1 ? (first < 0x80 ? first : 0xfffd) : first & (0xff >> (length + 1));
      for (let k = 1; k < length; k++) code = (code << 6) | (all[i + k]! & 0x3f);
      out += String.fromCodePoint(code);
      i += length;
    }
    return out;
  };
}

export const portableRuntime: Runtime = { randomId, abortController, utf8Decoder };
