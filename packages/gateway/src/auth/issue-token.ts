import { SignJWT } from 'jose';
import type { TokenRole } from '@civicloop/model';
import { CivicLoopError } from '@civicloop/model';
import { SECRET_KEY_PREFIX, deriveTokenKey, tokenKeyId } from './secrets.js';

export interface IssueTokenOptions {
  secretKey: string;
  sub: string;
  role: TokenRole;
  name?: string;
  unitId?: string;
  ttlSeconds?: number;
  now?: Date;
}

/** Server-side token signing (the demo seed uses it); apps use the SDK's signToken. */
export async function issueToken(options: IssueTokenOptions): Promise<string> {
  if (!options.secretKey.startsWith(SECRET_KEY_PREFIX) || !options.secretKey.includes('.')) {
    throw new CivicLoopError('CL_ERR_VALIDATION', 'secretKey must be a tenant secret key (cl_sk_...).');
  }
  const tenantId = options.secretKey.slice(SECRET_KEY_PREFIX.length, options.secretKey.indexOf('.'));
  const tokenKey = deriveTokenKey(options.secretKey);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = { role: options.role };
  if (options.name) claims.name = options.name;
  if (options.unitId) claims.unit = options.unitId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: tokenKeyId(tokenKey) })
    .setIssuer(tenantId)
    .setSubject(options.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? 900))
    .sign(tokenKey);
}
