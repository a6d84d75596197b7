import type { Cluster, Redis } from 'ioredis';
import { globalKeys, tenantKeys } from '../redis/keys.js';

const PENDING = 'pending';

/**
 * What is stored under an Idempotency-Key, framed as lines rather than JSON so that an answer
 * (itself JSON) is not escaped again: `pending\n<fp>`, or
 * `done\n<fp>\n<status>\n<content type>\n<sealed 0|1>\n<body>`.
 */
export type StoredAnswer = { pending: true; fp: string } | { pending: false; fp: string; status: number; type: string; sealed: boolean; body: string };

function frame(stored: StoredAnswer): string {
  return stored.pending ? `${PENDING}\n${stored.fp}` : `done\n${stored.fp}\n${stored.status}\n${stored.type}\n${stored.sealed ? 1 : 0}\n${stored.body}`;
}

function unframe(raw: string): StoredAnswer {
  const [state, fp = '', status = '', type = '', sealed = ''] = raw.split('\n', 5);
  if (state === PENDING) return { pending: true, fp };
  const header = `${state}\n${fp}\n${status}\n${type}\n${sealed}\n`;
  return { pending: false, fp, status: Number(status), type, sealed: sealed === '1', body: raw.slice(header.length) };
}

/** Where a key's answer lives: in its tenant, or (no tenant: the operator token) apart. */
export function replayKeyOf(tenantId: string | undefined, hash: string): string {
  return tenantId ? tenantKeys(tenantId).replay(hash) : globalKeys.operatorReplay(hash);
}

/** The answers kept for Idempotency-Keys (docs/api.md#retries-and-idempotency-key), per tenant, or the operator's. */
export class ReplayStore {
  constructor(private readonly redis: Redis | Cluster) {}

  /** Claims the key for a request in progress, in one command: null when claimed, else what holds it. */
  async claim(key: string, fp: string, pendingMs: number): Promise<StoredAnswer | null> {
    const previous = (await this.redis.call('SET', key, frame({ pending: true, fp }), 'PX', String(pendingMs), 'NX', 'GET')) as string | null;
    return previous === null ? null : unframe(previous);
  }

  /** Frees a claim (a refusal or a failure: the same request may run again). */
  async release(key: string): Promise<void> {
    await this.redis.del(key);
  }

  /** Keeps an answer for `ttlMs`; `onlyIfAbsent`: unless a copy of the request kept one first. */
  async keep(key: string, answer: Extract<StoredAnswer, { pending: false }>, ttlMs: number, onlyIfAbsent = false): Promise<void> {
    if (onlyIfAbsent) await this.redis.set(key, frame(answer), 'PX', ttlMs, 'NX');
    else await this.redis.set(key, frame(answer), 'PX', ttlMs);
  }

  async read(key: string): Promise<StoredAnswer | undefined> {
    const raw = await this.redis.get(key);
    return raw ? unframe(raw) : undefined;
  }
}
