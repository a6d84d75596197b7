import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { CivicLoopError, tenantOfKey } from '@civicloop/model';
import type { Services } from '../core/services.js';

const ALLOWED_HEADERS = 'authorization, content-type, idempotency-key, x-civicloop-key, last-event-id, x-request-id';
const EXPOSED_HEADERS = 'x-request-id, idempotent-replayed, retry-after';

/**
 * Browsers may call the API only from the tenant's allowed origins. A preflight carries no
 * credentials, so it cannot name the tenant: it is answered for any origin, and the real request
 * (whose key or token names the tenant) is refused unless its Origin is on that tenant's list.
 * Refused requests get no CORS headers either, so the page cannot read the refusal.
 */
export function installCors(app: FastifyInstance, services: Services): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || request.method !== 'OPTIONS') return;
    reply
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .header('vary', 'Origin')
      .code(204)
      .send();
    return reply;
  });
  // Errors too (401, 403, 429, 5xx...) must be readable by an allowed page, or the SDK in a
  // browser sees a network failure where the gateway said "sign in again" or "retry later".
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && request.headers.origin && !reply.hasHeader('access-control-allow-origin')) await addErrorCors(request, reply, services);
    return payload;
  });
}

function allow(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS).header('vary', 'Origin');
}

/** The tenant a request's credentials name, before (or without) verifying them. */
function claimedTenant(request: FastifyRequest): string | undefined {
  if (request.principal) return request.principal.tenantId;
  const publishable = request.headers['x-civicloop-key'];
  if (typeof publishable === 'string') return tenantOfKey(publishable.trim());
  const bearer = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  if (!bearer) return undefined;
  const fromKey = tenantOfKey(bearer);
  if (fromKey) return fromKey;
  try {
    return decodeJwt(bearer).iss;
  } catch {
    return undefined;
  }
}

/**
 * CORS headers on an error response. When the credentials name a tenant, the Origin must be on
 * that tenant's list (so a refused origin still cannot read its refusal). When no tenant can be
 * named or looked up (no credentials, a malformed URL, Redis down), the origin is reflected: an
 * error body carries nothing but the refusal, and without the header a page could not tell
 * "sign in again" from "offline".
 */
export async function addErrorCors(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const origin = request.headers.origin;
  if (!origin) return;
  const tenantId = claimedTenant(request);
  if (tenantId) {
    let allowed: string[] | undefined;
    try {
      allowed = (await services.tenants.context(tenantId))?.tenant.policy.allowedOrigins;
    } catch {
      allowed = undefined;
    }
    if (allowed && !allowed.includes(origin)) return;
  }
  allow(reply, origin);
}

/** Called once the principal is known (from the auth hook). */
export async function checkOrigin(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const origin = request.headers.origin;
  if (!origin) return;
  const context = await services.tenants.context(request.principal.tenantId);
  const allowed = context?.tenant.policy.allowedOrigins ?? [];
  if (!allowed.includes(origin)) {
    throw new CivicLoopError(
      'CL_ERR_ORIGIN_NOT_ALLOWED',
      `Origin ${origin} is not among this tenant's allowed origins; add it with PATCH /v1/tenant/policy { allowedOrigins }.`,
    );
  }
  allow(reply, origin);
}
