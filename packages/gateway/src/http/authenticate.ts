import { errors as joseErrors, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { Value } from '@sinclair/typebox/value';
import { CivicLoopError, TOKEN_CLOCK_SKEW_SECONDS, TokenClaims, reservedSubject, type Principal } from '@civicloop/model';
import type { TenantStore } from '../store/tenant-store.js';
import { PUBLISHABLE_KEY_PREFIX, SECRET_KEY_PREFIX } from '../auth/secrets.js';
import { partnerSubject, residentOfPartner } from '../auth/partner-scope.js';

export interface Credentials {
  authorization?: string | undefined;
  /** X-CivicLoop-Key: a publishable key, used by browsers alongside a resident token. */
  publishableKey?: string | undefined;
}

const invalidToken = (why: string) =>
  new CivicLoopError('CL_ERR_TOKEN_INVALID', `Token rejected: ${why}. Sign it with the tenant secret key (SDK: signToken).`);

/**
 * Turns request credentials into the principal the request acts as. The principal never comes
 * from anything the client merely claims: a secret key, a publishable key, or a token whose
 * signature verifies with the tenant's token key.
 */
/** What authentication reads: keys and tenants (the store, or its cache alone: TenantStore.cachedOnly). */
export type CredentialLookups = Pick<TenantStore, 'lookupKey' | 'context'>;

export async function authenticate(credentials: Credentials, tenants: CredentialLookups, tokenMaxTtlSeconds: number): Promise<Principal> {
  const bearer = /^Bearer\s+(.+)$/i.exec(credentials.authorization?.trim() ?? '')?.[1]?.trim();
  const publishable = credentials.publishableKey?.trim();

  if (bearer?.startsWith(SECRET_KEY_PREFIX) || bearer?.startsWith(PUBLISHABLE_KEY_PREFIX)) {
    return principalForKey(bearer, tenants);
  }
  const keyPrincipal = publishable ? await principalForKey(publishable, tenants) : undefined;
  if (keyPrincipal && keyPrincipal.via !== 'publishable_key') {
    throw new CivicLoopError(
      'CL_ERR_INVALID_KEY',
      'X-CivicLoop-Key takes the publishable key only; send the secret key as Authorization: Bearer, and only from servers.',
    );
  }
  if (!bearer) {
    if (keyPrincipal) return keyPrincipal;
    throw new CivicLoopError('CL_ERR_UNAUTHENTICATED');
  }
  const principal = await principalForToken(bearer, tenants, tokenMaxTtlSeconds);
  if (keyPrincipal && keyPrincipal.tenantId !== principal.tenantId) {
    throw invalidToken('it was issued by a different tenant than the publishable key');
  }
  // A page showing one partner's publishable key speaks for that partner's residents only.
  if (keyPrincipal && keyPrincipal.partnerId !== principal.partnerId) {
    throw invalidToken(
      keyPrincipal.partnerId
        ? 'it was not signed with the secret key of the partner whose publishable key came with it'
        : "it was signed by a partner, but the publishable key is the tenant's; send the partner's publishable key",
    );
  }
  return principal;
}

async function principalForKey(key: string, tenants: CredentialLookups): Promise<Principal> {
  const lookup = await tenants.lookupKey(key);
  if (!lookup) throw new CivicLoopError('CL_ERR_INVALID_KEY');
  const crs = lookup.crs ? { crs: lookup.crs } : {};
  if (lookup.partnerId) {
    const partner = { partnerId: lookup.partnerId };
    return lookup.kind === 'secret'
      ? { tenantId: lookup.tenantId, sub: partnerSubject(lookup.partnerId), role: 'partner', via: 'secret_key', ...crs, ...partner }
      : { tenantId: lookup.tenantId, sub: 'public', role: 'public', via: 'publishable_key', ...crs, ...partner };
  }
  return lookup.kind === 'secret'
    ? { tenantId: lookup.tenantId, sub: `key:${lookup.keyId}`, role: 'service', via: 'secret_key', ...crs }
    : { tenantId: lookup.tenantId, sub: 'public', role: 'public', via: 'publishable_key', ...crs };
}

async function principalForToken(token: string, tenants: CredentialLookups, tokenMaxTtlSeconds: number): Promise<Principal> {
  let kid: string | undefined;
  let issuer: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
    issuer = decodeJwt(token).iss;
  } catch {
    throw invalidToken('it is not a compact JWS (header.payload.signature)');
  }
  if (!kid || !issuer) throw invalidToken('it has no kid header or no iss claim');
  const context = await tenants.context(issuer);
  const key = context?.tokenKeys.get(kid);
  if (!context || !key) throw invalidToken('its key id is unknown or was rotated out');
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer, requiredClaims: ['exp', 'iat', 'sub'] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new CivicLoopError('CL_ERR_TOKEN_EXPIRED');
    throw invalidToken(error instanceof Error ? error.message : 'signature does not verify');
  }
  if (!Value.Check(TokenClaims, payload)) throw invalidToken('its claims are missing or of the wrong type (sub, role, iat, exp)');
  if (payload.iat > Math.floor(Date.now() / 1000) + TOKEN_CLOCK_SKEW_SECONDS) {
    throw invalidToken(`it was issued in the future (iat ${payload.iat}); check the signing server's clock`);
  }
  const reserved = reservedSubject(payload.sub);
  // The gateway's own anonymous-resident tokens are the one exception, and say so.
  if (reserved && !(payload.sub.startsWith('anon:') && payload.anon === true)) throw invalidToken(reserved);
  if (payload.exp - payload.iat > tokenMaxTtlSeconds) {
    throw new CivicLoopError(
      'CL_ERR_TOKEN_TOO_LONG_LIVED',
      `The token lives ${payload.exp - payload.iat} s; the gateway accepts at most ${tokenMaxTtlSeconds} s (TOKEN_MAX_TTL_SECONDS).`,
    );
  }
  const partnerId = context.partnerOfKid.get(kid);
  if (partnerId && payload.role !== 'citizen') {
    throw new CivicLoopError(
      'CL_ERR_PARTNER_SCOPE',
      `A partner's secret key signs resident tokens (role citizen) only, not ${payload.role}; staff tokens are signed with the tenant's secret key.`,
    );
  }
  // A partner's residents live in its namespace: two platforms' "flat-1201" are two people.
  const sub = partnerId ? residentOfPartner(partnerId, payload.sub) : payload.sub;
  const principal: Principal = { tenantId: issuer, sub, role: payload.role, via: 'token', ...(partnerId ? { partnerId } : {}) };
  if (payload.name) principal.name = payload.name;
  if (payload.unit) principal.unitId = payload.unit;
  return principal;
}
