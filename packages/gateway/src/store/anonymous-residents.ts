import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { tenantKeys } from '../redis/keys.js';

/** How long a browser's anonymous identity lives without being used (each renewal starts it again). */
export const ANONYMOUS_RESIDENT_TTL_SECONDS = 400 * 86_400;

const hash = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * Browsers' anonymous resident identities: an id and a device secret, of which only the secret's
 * hash is kept, for ANONYMOUS_RESIDENT_TTL_SECONDS after its last use.
 */
export class AnonymousResidents {
  constructor(private readonly redis: Redis | Cluster) {}

  /** A new identity: its id and the secret the browser keeps (shown once). */
  async create(tenantId: string): Promise<{ residentId: string; deviceSecret: string }> {
    const residentId = `anon:${randomBytes(12).toString('base64url')}`;
    const deviceSecret = randomBytes(24).toString('base64url');
    await this.redis.set(tenantKeys(tenantId).anonymousResident(residentId), hash(deviceSecret).toString('hex'), 'EX', ANONYMOUS_RESIDENT_TTL_SECONDS);
    return { residentId, deviceSecret };
  }

  /** Whether the secret is this identity's; a match keeps the identity another full period. */
  async renew(tenantId: string, residentId: string, deviceSecret: string): Promise<boolean> {
    const key = tenantKeys(tenantId).anonymousResident(residentId);
    const stored = await this.redis.get(key);
    if (!stored || !timingSafeEqual(Buffer.from(stored, 'hex'), hash(deviceSecret))) return false;
    await this.redis.expire(key, ANONYMOUS_RESIDENT_TTL_SECONDS);
    return true;
  }
}
