import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortController, randomId, utf8Decoder } from './portable.js';
import { withQuery } from './runtime.js';

const TEXT = 'Bin 垃圾桶 🗑️ é ok';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const bytes = new TextEncoder().encode(TEXT);

afterEach(() => vi.unstubAllGlobals());

describe('the SDK on a runtime without web APIs', () => {
  it('decodes UTF-8 split anywhere between chunks, with and without TextDecoder', () => {
    for (const stubbed of [false, true]) {
      if (stubbed) vi.stubGlobal('TextDecoder', undefined);
      for (let cut = 0; cut <= bytes.length; cut++) {
        for (let cut2 = cut; cut2 <= bytes.length; cut2 += 3) {
          const decode = utf8Decoder();
          expect(decode(bytes.slice(0, cut)) + decode(bytes.slice(cut, cut2)) + decode(bytes.slice(cut2)), `${stubbed} ${cut} ${cut2}`).toBe(TEXT);
        }
      }
    }
  });

  it('makes distinct ids without crypto, and aborts without AbortController', () => {
    vi.stubGlobal('crypto', undefined);
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    vi.stubGlobal('AbortController', undefined);
    const controller = abortController();
    const heard: string[] = [];
    controller.signal.addEventListener('abort', () => heard.push('abort'), { once: true });
    controller.abort('stop');
    controller.abort('again');
    expect([controller.signal.aborted, controller.signal.reason, heard]).toEqual([true, 'stop', ['abort']]);
  });

  it('makes UUIDs from getRandomValues where randomUUID is missing (plain HTTP on an intranet address, older browsers)', () => {
    // What a page outside a secure context has: getRandomValues, no randomUUID.
    const real = globalThis.crypto;
    const getRandomValues = vi.fn((b: Uint8Array) => real.getRandomValues(b));
    vi.stubGlobal('crypto', { getRandomValues });
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(getRandomValues).toHaveBeenCalledTimes(1000);
  });

  it('builds query strings without URL', () => {
    expect(withQuery('https://g/v1/tickets', { status: 'open', q: '垃圾 桶&x', limit: 20, skip: undefined })).toBe(
      'https://g/v1/tickets?status=open&q=%E5%9E%83%E5%9C%BE%20%E6%A1%B6%26x&limit=20',
    );
    expect(withQuery('https://g/v1/x?a=1', { b: true })).toBe('https://g/v1/x?a=1&b=true');
    expect(withQuery('https://g/v1/x', {})).toBe('https://g/v1/x');
  });
});
