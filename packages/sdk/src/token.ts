import type { TokenRole } from '@civicloop/model';

export interface SignTokenOptions {
  /** The tenant secret key (cl_sk_...). Server side only: never ship it to a browser. */
  secretKey: string;
  /** Stable id of the person in your system (a resident id, or a staff id from /v1/staff). */
  sub: string;
  role: TokenRole;
  name?: string;
  /** The unit a worker belongs to (lets them claim unassigned tickets of that unit). */
  unitId?: string;
  /** Lifetime. Default 900 s; the gateway refuses more than TOKEN_MAX_TTL_SECONDS (default 3600). */
  ttlSeconds?: number;
  now?: Date;
}

const TOKEN_KEY_INFO = 'civicloop-token-v1';
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
  let binary = '';
  for (const byte of raw) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function hmac(key: Uint8Array<ArrayBuffer>, data: string): Promise<Uint8Array<ArrayBuffer>> {
  const cryptoKey = await globalThis.crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(data)));
}

/**
 * Signs a short-lived principal token (a compact JWS, HS256) with a key derived from the tenant
 * secret: the host platform vouches for who its user is, and the gateway verifies it. Works in
 * Node 20, Deno, Bun and edge runtimes (Web Crypto only).
 */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const { secretKey } = options;
  const dot = secretKey.indexOf('.');
  if (!secretKey.startsWith('cl_sk_') || dot < 0) throw new TypeError('signToken: secretKey must be the tenant secret key (cl_sk_<tenant>.<secret>).');
  const tenantId = secretKey.slice('cl_sk_'.length, dot);
  const tokenKey = await hmac(encoder.encode(secretKey), TOKEN_KEY_INFO);
  const kid = base64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', tokenKey))).slice(0, 16);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = { iss: tenantId, sub: options.sub, role: options.role, iat, exp: iat + (options.ttlSeconds ?? 900) };
  if (options.name) claims.name = options.name;
  if (options.unitId) claims.unit = options.unitId;
  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${base64url(await hmac(tokenKey, signingInput))}`;
}
