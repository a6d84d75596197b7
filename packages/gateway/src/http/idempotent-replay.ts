import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import type { Sealer } from '../auth/secrets.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { Services } from '../services.js';
import { idempotencyScope } from '../tickets/idempotency.js';

/**
 * How a POST honours the retry contract (docs/api.md#retries-and-idempotency-key):
 * - `replay`: this module stores the first response for the key and replays it;
 * - `native`: the same, and the route's own atomic write also remembers the key (tickets,
 *   commands): should the gateway stop between the write and storing its answer, the retry
 *   still does nothing twice, and answers with the ticket as it now is;
 * - `content`: the result depends only on the request's content, and repeating it writes nothing
 *   new (photo uploads are stored by content hash);
 * - `none`: not idempotent; the SDK never retries it by itself.
 * A POST route that says nothing is `replay`. The OpenAPI document carries each operation's kind
 * as `x-civicloop-idempotency`.
 */
export type IdempotencyKind = 'native' | 'replay' | 'content' | 'none';

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

/** A stored answer; `sealed` when it may hold a secret shown once (not for tickets and commands). */
type Stored = { s: 'pending'; fp: string } | { s: 'done'; fp: string; status: number; type: string; body: string; sealed: boolean };

/** `/v1/tickets/:id/merge` as OpenAPI writes it: `/v1/tickets/{id}/merge`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function installIdempotentReplay(app: FastifyInstance, services: Services, sealer: Sealer): Map<string, IdempotencyKind> {
  const kinds = new Map<string, IdempotencyKind>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST')) return;
    route.config = { ...route.config, idempotency: route.config?.idempotency ?? 'replay' };
    kinds.set(`POST ${openApiPath(route.url)}`, route.config.idempotency!);
  });

  function storageKey(request: FastifyRequest, hash: string): string {
    return request.principal ? tenantKeys(request.principal.tenantId).replay(hash) : globalKeys.operatorReplay(hash);
  }

  app.addHook('preHandler', async (request, reply) => {
    const kind = request.routeOptions.config.idempotency;
    if (request.method !== 'POST' || (kind !== 'replay' && kind !== 'native')) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    const principal = request.principal ?? { tenantId: '-', sub: 'operator', role: 'service', via: 'secret_key' as const };
    const scope = idempotencyScope(principal, header, `${request.routeOptions.url}:${JSON.stringify(request.params)}`, request.body)!;
    const key = storageKey(request, scope.key);
    // A native write keeps two copies from both running by itself, atomically: no claim needed,
    // only a look for its first answer. Otherwise one command claims the key or returns what
    // holds it, so two copies of a request cannot both run.
    const native = kind === 'native';
    const previous = native ? await services.redis.get(key) : ((await services.redis.call('SET', key, JSON.stringify({ s: 'pending', fp: scope.fp } satisfies Stored), 'PX', String(PENDING_MS), 'NX', 'GET')) as string | null);
    if (previous === null) {
      request.replayClaim = { key, fp: scope.fp, native };
      return;
    }
    const stored = JSON.parse(previous) as Stored;
    if (stored.fp !== scope.fp) throw new CivicLoopError('CL_ERR_IDEMPOTENCY_KEY_REUSED');
    if (stored.s === 'pending') throw new CivicLoopError('CL_ERR_IDEMPOTENCY_IN_PROGRESS');
    return sendStored(reply, stored, sealer);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.replayClaim;
    if (!claim) return payload;
    request.replayClaim = undefined;
    if (reply.statusCode >= 300 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
      // A refusal writes nothing, not even its answer; and after a 5xx nothing is known to have
      // happened. Either way the key is free again, and the same request gets the same refusal
      // (or, once the cause is gone, runs).
      if (!claim.native) await services.redis.del(claim.key).catch(() => undefined);
      return payload;
    }
    // A copy that the native write answered with the ticket as it now is: the first answer stands.
    if (claim.native && reply.getHeader('idempotent-replayed')) return payload;
    const text = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    // Tickets and commands hold no secret shown once: stored as they are, saving the sealing.
    const body = claim.native ? text.toString() : sealer.seal(text);
    const stored: Stored = { s: 'done', fp: claim.fp, status: reply.statusCode, type: String(reply.getHeader('content-type') ?? 'application/json'), body, sealed: !claim.native };
    const ttl = services.config.idempotencyTtlSeconds * 1000;
    // A native answer is stored only if no copy stored one first; a claimed one replaces its claim.
    if (claim.native) await services.redis.set(claim.key, JSON.stringify(stored), 'PX', ttl, 'NX');
    else await services.redis.set(claim.key, JSON.stringify(stored), 'PX', ttl);
    return payload;
  });
  return kinds;
}

function sendStored(reply: FastifyReply, stored: Extract<Stored, { s: 'done' }>, sealer: Sealer): FastifyReply {
  // Sealed at rest: a response may hold a secret shown once (a device password, a new key).
  return reply.code(stored.status).header('content-type', stored.type).header('idempotent-replayed', 'true').send(stored.sealed ? sealer.open(stored.body) : stored.body);
}
