import { createHash } from 'node:crypto';
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

export function idempotencyScope(principal: Principal, header: string | string[] | undefined, operation: string, body: unknown): IdempotencyScope | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw || !KEY_PATTERN.test(raw)) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_INVALID');
  const hash = (text: string) => createHash('sha256').update(text).digest('base64url');
  return {
    key: hash(`${principal.sub}\n${raw}`),
    fp: hash(`${operation}\n${JSON.stringify(body ?? null)}`),
  };
}

export function assertSameRequest(scope: IdempotencyScope, recordedFp: string): void {
  if (scope.fp !== recordedFp) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_REUSED');
}
