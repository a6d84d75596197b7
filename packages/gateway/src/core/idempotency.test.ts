import { createHash } from 'node:crypto';
import type { Principal } from '@civicloop/model';
import { describe, expect, it } from 'vitest';
import { idempotencyScope } from './idempotency.js';

const principal: Principal = { tenantId: 't1', sub: 'disp-1', role: 'dispatcher', via: 'token' };
const body = { category: 'sanitation.bin_overflow', description: '垃圾桶满了', location: { lat: 23.1, lon: 113.3 } };
const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

describe('idempotencyScope', () => {
  it('names the key and the request by the SHA-256 digests that keys stored by earlier versions carry', () => {
    // The one-call hash must digest exactly as createHash did: a retry sent across an upgrade
    // finds its key, and is not taken for a different request.
    expect(idempotencyScope(principal, 'retry-key-0001', 'create', body)).toEqual({
      key: digest('disp-1\nretry-key-0001'),
      fp: digest(`create\n${JSON.stringify(body)}`),
    });
    expect(idempotencyScope(principal, 'retry-key-0001', 'dispatch:abc', undefined)?.fp).toBe(digest('dispatch:abc\nnull'));
  });

  it('tells callers apart, and requests apart, under one key', () => {
    const mine = idempotencyScope(principal, 'retry-key-0001', 'create', body)!;
    const theirs = idempotencyScope({ ...principal, sub: 'disp-2' }, 'retry-key-0001', 'create', body)!;
    expect(theirs.key).not.toBe(mine.key);
    expect(theirs.fp).toBe(mine.fp);
    expect(idempotencyScope(principal, 'retry-key-0001', 'create', { ...body, description: 'other' })!.fp).not.toBe(mine.fp);
    expect(idempotencyScope(principal, 'retry-key-0001', 'dispatch:abc', body)!.fp).not.toBe(mine.fp);
  });

  it('has no scope without the header, takes the first of repeated headers, and refuses a malformed key', () => {
    expect(idempotencyScope(principal, undefined, 'create', body)).toBeUndefined();
    expect(idempotencyScope(principal, ['retry-key-0001', 'retry-key-0002'], 'create', body)).toEqual(
      idempotencyScope(principal, 'retry-key-0001', 'create', body),
    );
    for (const bad of ['', 'short', 'has space in it', 'ü-not-ascii-key', 'x'.repeat(129)])
      expect(() => idempotencyScope(principal, bad, 'create', body), bad).toThrow(expect.objectContaining({ code: 'CL_ERR_IDEMPOTENCY_KEY_INVALID' }));
  });
});
