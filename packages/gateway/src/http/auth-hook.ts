import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CivicLoopError, type Principal } from '@civicloop/model';
import { authenticateFromAddress } from './authenticate-from-address.js';
import { requireRole, type Services } from '../core/services.js';
import { checkOrigin } from './cors.js';

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The routes a fixed token opens, the setting it comes from, and what to say when it is unset or wrong. */
const FIXED_TOKENS = {
  operator: {
    setting: 'operatorToken',
    disabled: 'CL_ERR_OPERATOR_DISABLED',
    wrong: 'Tenant administration needs Authorization: Bearer <CIVICLOOP_OPERATOR_TOKEN>.',
  },
  broker: {
    setting: 'brokerHookToken',
    disabled: 'CL_ERR_BROKER_HOOKS_DISABLED',
    wrong: "The broker hooks need Authorization: Bearer <BROKER_HOOK_TOKEN>; set that header in the broker's HTTP authentication and authorization settings.",
  },
} as const;

function checkFixedToken(kind: keyof typeof FIXED_TOKENS, authorization: string | undefined, services: Services): void {
  const { setting, disabled, wrong } = FIXED_TOKENS[kind];
  const expected = services.config[setting];
  if (!expected) throw new CivicLoopError(disabled);
  const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1] ?? '';
  if (!sameSecret(given, expected)) throw new CivicLoopError('CL_ERR_UNAUTHENTICATED', wrong);
}

/**
 * Whether a request from an address past its failed-authentication limit is refused before its
 * route runs. Routes with roles verify from memory (authenticateFromAddress), device routes check
 * the device's secret themselves; a keyless route is refused only a request that carries
 * credentials in its headers (a photo read with a key or token: nothing else there can be a
 * guess). Open311's POST checks its api_key itself, the same way.
 */
function refusedWhenBlocked(access: FastifyRequest['routeOptions']['config']['access'], request: FastifyRequest): boolean {
  if (access?.kind === 'roles' || access?.kind === 'device') return false;
  if (!access || access.kind === 'none') return Boolean(request.headers.authorization || request.headers['x-civicloop-key']);
  return true;
}

/** Resolves the principal of every request whose route asks for it, before the body is read. */
export function installAuth(app: FastifyInstance, services: Services): void {
  app.decorateRequest('principal', null as unknown as Principal);
  const limiter = services.requestLimits;
  const shared = services.addressLimits;
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    // Health checks come from load balancers, often from one address, all the time.
    if (request.routeOptions.url === '/v1/health') return;
    // An address past its failed-authentication limit is refused before any lookup, except what
    // cannot be a guess: a credential this gateway verified within AUTH_CACHE_TTL_MS (below; the
    // device routes check their secrets themselves), and a request to a keyless route that
    // carries no credentials (the widget's files, a published photo, Open311's reads). Many
    // clients may share the address (a carrier's, an office's): one guessing must not shut out the rest.
    if (shared.isBlocked(request.ip) && refusedWhenBlocked(access, request)) shared.assertNotBlocked(request.ip);
    // A device route counts in the route, by the device its secret verifies as (routes/device-http.ts).
    if (access?.kind === 'device') return;
    if (!access || access.kind === 'none') {
      await shared.countKeyless(request.ip);
      return;
    }
    if (access.kind === 'operator' || access.kind === 'broker') {
      checkFixedToken(access.kind, request.headers.authorization, services);
      return;
    }
    const credentials = { authorization: request.headers.authorization, publishableKey: request.headers['x-civicloop-key'] as string | undefined };
    const principal = await authenticateFromAddress(request.ip, credentials, services);
    request.principal = principal;
    // Counted before the role check, so refused requests count too.
    limiter.check(
      principal.role === 'service' || principal.role === 'partner' || principal.role === 'public'
        ? `${principal.tenantId}:${principal.role}:${request.headers.authorization ?? request.headers['x-civicloop-key']}`
        : `${principal.tenantId}:${principal.sub}`,
      request.ip,
    );
    requireRole(principal, access.roles);
    await checkOrigin(request, reply, services);
  });
}
