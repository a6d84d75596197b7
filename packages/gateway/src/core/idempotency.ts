import * as crypto from 'node:crypto';
import { CivicLoopError, type Principal } from '@civicloop/model';

const KEY_PATTERN = /^[A-Za-z0-9_:.-]{8,128}$/;

export interface IdempotencyScope {
  /** The Redis-side name: one caller's key never collides with another caller's. */
  key: string;
  /** Fingerprint of the request, to refuse the same key for a different request. */
  fp: string;
  /** How long the key is remembered, when not IDEMPOTENCY_TTL_SECONDS (imports: for good). */
  ttlSeconds?: number;
}

/**
 * SHA-256 in base64url. crypto.hash (Node 20.12 and later) digests in one call, without a Hash
 * object per digest: about half the cost of createHash for these short texts, and a request with
 * a key digests two of them. Read from the namespace, so Node 20.10 and 20.11 (which the engines
 * field allows) fall back instead of failing to import it.
 */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'base64url')
    : (text) => crypto.createHash('sha256').update(text).digest('base64url');

export function idempotencyScope(principal: Principal, header: string | string[] | undefined, operation: string, body: unknown): IdempotencyScope | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw || !KEY_PATTERN.test(raw)) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_INVALID');
  return {
    key: sha256(`${principal.sub}\n${raw}`),
    fp: sha256(`${operation}\n${JSON.stringify(body ?? null)}`),
  };
}

export function assertSameRequest(scope: IdempotencyScope, recordedFp: string): void {
  if (scope.fp !== recordedFp) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_REUSED');
}
