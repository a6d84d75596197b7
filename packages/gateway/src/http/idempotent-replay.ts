import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import type { Sealer } from '../auth/secrets.js';
import { ReplayStore, replayKeyOf, type StoredAnswer } from '../store/replay-store.js';
import type { Services } from '../core/services.js';
import { idempotencyScope, type IdempotencyScope } from '../core/idempotency.js';

/**
 * How a POST honours the retry contract (docs/api.md#retries-and-idempotency-key):
 * - `replay`: this module stores the first response for the key and replays it;
 * - `native`: the route's own atomic write remembers the key (tickets, commands), so a copy never
 *   acts twice; the route takes its scope from `nativeIdempotencyScope`, and this module stores
 *   the first answer under it and, when the write says a copy was a repeat, answers with it (or,
 *   if it was lost, with what the route says: the ticket as it now is);
 * - `content`: the result depends only on the request's content, and repeating it writes nothing
 *   new (photo uploads are stored by content hash).
 * Every POST is one of these, so the SDK may retry any of them. A POST route that says nothing is
 * `replay`. The OpenAPI document carries each operation's kind as `x-civicloop-idempotency`.
 */
export type IdempotencyKind = 'native' | 'replay' | 'content';

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: IdempotencyKind;
  }
  interface FastifyRequest {
    replayClaim?: { key: string; fp: string; native: boolean };
  }
}

/** A claim for a request in progress lives this long: a gateway that died mid-request frees the key then. */
const PENDING_MS = 60_000;
/** `/v1/tickets/:id/merge` as OpenAPI writes it: `/v1/tickets/{id}/merge`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

// Long: the two hooks that make a request idempotent (before: reserve or replay; after: store the answer) share the key and its record.
export function installIdempotentReplay(app: FastifyInstance, services: Services, sealer: Sealer): Map<string, IdempotencyKind> {
  const kinds = new Map<string, IdempotencyKind>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST')) return;
    route.config = { ...route.config, idempotency: route.config?.idempotency ?? 'replay' };
    kinds.set(`POST ${openApiPath(route.url)}`, route.config.idempotency!);
  });

  const answers = new ReplayStore(services.redis);
  const ttlMs = services.config.idempotencyTtlSeconds * 1000;

  app.addHook('preHandler', async (request, reply) => {
    const kind = request.routeOptions.config.idempotency;
    if (request.method !== 'POST' || kind === 'content') return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    // A native write tells by itself whether this is a repeat (and refuses a reused key): nothing
    // to look up before it runs, and its route works out the scope (nativeIdempotencyScope), once.
    if (kind === 'native') return;
    const principal = request.principal ?? { tenantId: '-', sub: 'operator', role: 'service', via: 'secret_key' as const };
    const scope = idempotencyScope(principal, header, `${request.routeOptions.url}:${JSON.stringify(request.params)}`, request.body)!;
    const key = replayKeyOf(request.principal?.tenantId, scope.key);
    // One command claims the key or returns what holds it: two copies of a request cannot both run.
    const stored = await answers.claim(key, scope.fp, PENDING_MS);
    if (stored === null) {
      request.replayClaim = { key, fp: scope.fp, native: false };
      return;
    }
    if (stored.fp !== scope.fp) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_REUSED');
    if (stored.pending) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_IN_PROGRESS');
    return sendStored(reply, stored, sealer);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.replayClaim;
    if (!claim) return payload;
    request.replayClaim = undefined;
    if (claim.native) return nativeAnswer(claim, reply, payload);
    if (reply.statusCode >= 300 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
      // A refusal writes nothing, not even its answer; and after a 5xx nothing is known to have
      // happened. Either way the key is free again, and the same request gets the same refusal
      // (or, once the cause is gone, runs).
      await answers.release(claim.key).catch(() => undefined);
      return payload;
    }
    const body = sealer.seal(Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
    await answers.keep(claim.key, { pending: false, fp: claim.fp, status: reply.statusCode, type: contentType(reply), sealed: true, body }, ttlMs);
    return payload;
  });

  /**
   * A native route's answer: a repeat (the write said so) is answered with the first answer when
   * it is stored; a first run's success is stored, unsealed (tickets hold no secret shown once),
   * unless a copy stored one first.
   */
  async function nativeAnswer(claim: { key: string; fp: string }, reply: FastifyReply, payload: unknown): Promise<unknown> {
    if (reply.getHeader('idempotent-replayed')) {
      const stored = await answers.read(claim.key);
      if (!stored || stored.pending || stored.fp !== claim.fp) return payload;
      reply.code(stored.status);
      return stored.body;
    }
    if (reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    const answer = { pending: false as const, fp: claim.fp, status: reply.statusCode, type: contentType(reply), sealed: false, body: payload };
    await answers.keep(claim.key, answer, ttlMs, true);
    return payload;
  }
  return kinds;
}

/**
 * The Idempotency-Key scope of a request to a `native` route, for its write to check; its answer
 * is then kept under the same scope. Worked out here once per request: hashing the key and the
 * body was about a tenth of an idempotent create's gateway CPU when the hook did it a second time.
 */
export function nativeIdempotencyScope(request: FastifyRequest, operation: string): IdempotencyScope | undefined {
  const scope = idempotencyScope(request.principal, request.headers['idempotency-key'], operation, request.body);
  if (scope) request.replayClaim = { key: replayKeyOf(request.principal.tenantId, scope.key), fp: scope.fp, native: true };
  return scope;
}

const contentType = (reply: FastifyReply) => String(reply.getHeader('content-type') ?? 'application/json');

function sendStored(reply: FastifyReply, stored: Extract<StoredAnswer, { pending: false }>, sealer: Sealer): FastifyReply {
  // Sealed at rest: a response may hold a secret shown once (a device password, a new key).
  return reply
    .code(stored.status)
    .header('content-type', stored.type)
    .header('idempotent-replayed', 'true')
    .send(stored.sealed ? sealer.open(stored.body) : stored.body);
}
