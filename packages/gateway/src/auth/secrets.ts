import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PUBLISHABLE_KEY_PREFIX, SECRET_KEY_PREFIX } from '@civicloop/model';

export { PUBLISHABLE_KEY_PREFIX, SECRET_KEY_PREFIX };

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
