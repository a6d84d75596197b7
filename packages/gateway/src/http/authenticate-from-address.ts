import type { Principal } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { authenticate, type Credentials } from './authenticate.js';

/**
 * authenticate, for a client at `address`. An address past its failed-authentication limit is
 * let in only with what this gateway verified within AUTH_CACHE_TTL_MS (a key it looked up, or a
 * token of a tenant whose keys it holds): many clients may share the address (a mobile carrier's,
 * an office's), and one of them guessing must not shut out the rest. Anything else from there is
 * answered 429 without a lookup, and not counted again.
 */
export async function authenticateFromAddress(address: string, credentials: Credentials, services: Services): Promise<Principal> {
  const { tenants, addressLimits, config } = services;
  if (!addressLimits.isBlocked(address)) return authenticate(credentials, tenants, config.tokenMaxTtlSeconds);
  try {
    return await authenticate(credentials, tenants.cachedOnly(), config.tokenMaxTtlSeconds);
  } catch {
    // Not verified from memory: refused as the address is, unless its minute ended meanwhile.
    addressLimits.assertNotBlocked(address);
    return authenticate(credentials, tenants, config.tokenMaxTtlSeconds);
  }
}
