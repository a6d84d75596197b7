import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import type { Services } from '../services.js';

const ALLOWED_HEADERS = 'authorization, content-type, idempotency-key, x-civicloop-key, last-event-id, x-request-id';
const EXPOSED_HEADERS = 'x-request-id, idempotent-replayed, retry-after';

/**
 * Browsers may call the API only from the tenant's allowed origins. A preflight carries no
 * credentials, so it cannot name the tenant: it is answered for any origin, and the real request
 * (whose key or token names the tenant) is refused unless its Origin is on that tenant's list.
 * Refused requests get no CORS headers either, so the page cannot read the refusal.
 */
export function installCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || request.method !== 'OPTIONS') return;
    reply
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', 'GET, POST, PATCH, OPTIONS')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .header('vary', 'Origin')
      .code(204)
      .send();
    return reply;
  });
}

/** Called once the principal is known (from the auth hook). */
export async function checkOrigin(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<void> {
  const origin = request.headers.origin;
  if (!origin) return;
  const context = await services.tenants.context(request.principal.tenantId);
  const allowed = context?.tenant.policy.allowedOrigins ?? [];
  if (!allowed.includes(origin)) {
    throw new CivicLoopError('CL_ERR_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not among this tenant's allowed origins; add it with PATCH /v1/tenant/policy { allowedOrigins }.`);
  }
  reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS).header('vary', 'Origin');
}
