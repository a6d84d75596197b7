import { SignJWT } from 'jose';
import type { TokenRole } from '@civicloop/model';
import { deriveTokenKey } from './secrets.js';

export interface IssueTokenOptions {
  secretKey: string;
  tenantId: string;
  keyId: string;
  sub: string;
  role: TokenRole;
  name?: string;
  unitId?: string;
  ttlSeconds?: number;
  now?: Date;
}

/** Server-side token signing (the demo seed uses it); apps use the SDK's signToken. */
export async function issueToken(options: IssueTokenOptions): Promise<string> {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = { role: options.role };
  if (options.name) claims.name = options.name;
  if (options.unitId) claims.unit = options.unitId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: options.keyId })
    .setIssuer(options.tenantId)
    .setSubject(options.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? 900))
    .sign(deriveTokenKey(options.secretKey));
}
