import type { TokenRole } from './schemas/principal.js';

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

/** Allowed skew between the signer's clock and the gateway's for `iat`. */
export const TOKEN_CLOCK_SKEW_SECONDS = 60;

/** Subjects the gateway gives its own principals; a token may not claim one of them. */
const RESERVED_SUBJECTS = new Set(['public', 'open311']);
const RESERVED_PREFIXES = ['key:', 'system:', 'device:', 'anon:', 'partner:'];

/**
 * Why a token subject would collide with a principal of the gateway's own (a publishable key
 * acts as "public", a secret key as "key:<id>", automatic routing as "system:router", a badge's SOS
 * as "device:<id>", an anonymous browser as "anon:<random>", a partner's server as "partner:<id>"
 * and its residents as "partner:<id>:<their sub>"), or undefined when it is free. A
 * resident called "public" must not see every anonymous report.
 */
export function reservedSubject(sub: string): string | undefined {
  if (RESERVED_SUBJECTS.has(sub)) return `sub "${sub}" is the name of a built-in principal`;
  const prefix = RESERVED_PREFIXES.find((p) => sub.startsWith(p));
  return prefix ? `subjects starting with "${prefix}" belong to the gateway's own principals` : undefined;
}

export const SECRET_KEY_PREFIX = 'cl_sk_';
export const PUBLISHABLE_KEY_PREFIX = 'cl_pk_';
/** Domain separation: the token key is derived from, never equal to, the API secret. */
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

/** The tenant id a key was issued for: keys read `cl_sk_<tenant>.<secret>`. */
export function tenantOfKey(key: string): string | undefined {
  const prefix = key.startsWith(SECRET_KEY_PREFIX) ? SECRET_KEY_PREFIX : key.startsWith(PUBLISHABLE_KEY_PREFIX) ? PUBLISHABLE_KEY_PREFIX : undefined;
  const dot = key.indexOf('.');
  return prefix && dot > prefix.length ? key.slice(prefix.length, dot) : undefined;
}

/** The HS256 key tokens are signed with: HMAC-SHA256(secret key, "civicloop-token-v1"). */
export async function deriveTokenKey(secretKey: string): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(encoder.encode(secretKey), TOKEN_KEY_INFO);
}

/** A token's `kid`: a fingerprint of its token key, so tokens of a rotated secret are told apart. */
export async function tokenKeyId(tokenKey: Uint8Array<ArrayBuffer>): Promise<string> {
  return base64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', tokenKey))).slice(0, 16);
}

/**
 * Signs a short-lived principal token (a compact JWS, HS256) with a key derived from the tenant
 * secret: the host platform vouches for who its user is, and the gateway verifies it. Works in
 * Node 20, Deno, Bun and edge runtimes (Web Crypto only).
 */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const { secretKey, ...claims } = options;
  const reserved = reservedSubject(options.sub);
  if (reserved) throw new TypeError(`signToken: ${reserved}; use your own id for the person.`);
  const tenantId = secretKey.startsWith(SECRET_KEY_PREFIX) ? tenantOfKey(secretKey) : undefined;
  if (!tenantId) throw new TypeError('signToken: secretKey must be the tenant secret key (cl_sk_<tenant>.<secret>).');
  return signWithTokenKey({ ...claims, tokenKey: await deriveTokenKey(secretKey), tenantId });
}

export interface SignWithTokenKeyOptions extends Omit<SignTokenOptions, 'secretKey'> {
  /** The derived token key (deriveTokenKey), for a signer that holds it rather than the secret. */
  tokenKey: Uint8Array<ArrayBuffer>;
  tenantId: string;
  /** The gateway's own anonymous-resident tokens (sub anon:...) carry `anon: true`. */
  anonymous?: boolean;
}

/** The signing itself: what signToken does once it has derived the key from the secret. */
export async function signWithTokenKey(options: SignWithTokenKeyOptions): Promise<string> {
  const { tokenKey, tenantId } = options;
  const kid = await tokenKeyId(tokenKey);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = { iss: tenantId, sub: options.sub, role: options.role, iat, exp: iat + (options.ttlSeconds ?? 900) };
  if (options.name) claims.name = options.name;
  if (options.unitId) claims.unit = options.unitId;
  if (options.anonymous) claims.anon = true;
  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${base64url(await hmac(tokenKey, signingInput))}`;
}
