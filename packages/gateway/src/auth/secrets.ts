import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export const SECRET_KEY_PREFIX = 'cl_sk_';
export const PUBLISHABLE_KEY_PREFIX = 'cl_pk_';
/** Domain separation: the token key is derived from, never equal to, the API secret. */
export const TOKEN_KEY_INFO = 'civicloop-token-v1';

export type KeyKind = 'secret' | 'publishable';

/**
 * `cl_sk_<tenantId>.<random>`: the tenant id in the key lets the SDK sign tokens from the secret
 * key alone; the random part (256 / 192 bits) is what makes it a secret.
 */
export function generateApiKey(kind: KeyKind, tenantId: string): string {
  return kind === 'secret'
    ? `${SECRET_KEY_PREFIX}${tenantId}.${randomBytes(32).toString('base64url')}`
    : `${PUBLISHABLE_KEY_PREFIX}${tenantId}.${randomBytes(24).toString('base64url')}`;
}

/**
 * API keys are 192-256 random bits, so a plain SHA-256 is a safe at-rest form (no dictionary to
 * attack) and cheap enough to compute on every request.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The HS256 key tokens are signed with; the SDK's signToken derives the same bytes. */
export function deriveTokenKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update(TOKEN_KEY_INFO).digest();
}

/** The token header's kid: a fingerprint of the token key, so rotated keys are told apart. */
export function tokenKeyId(tokenKey: Buffer): string {
  return createHash('sha256').update(tokenKey).digest('base64url').slice(0, 16);
}

/** AES-256-GCM under the gateway master key, so a copy of Redis alone cannot forge tokens. */
export class Sealer {
  private readonly key: Buffer;

  constructor(masterKey: string) {
    this.key = createHash('sha256').update(masterKey).digest();
  }

  seal(plain: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  }
}
