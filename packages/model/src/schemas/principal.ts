import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';
import type { CrsName } from './common.js';

/** Roles a signed token may carry. */
export const TOKEN_ROLES = ['citizen', 'steward', 'dispatcher', 'worker', 'supervisor', 'admin'] as const;
export const TokenRole = StringEnum(TOKEN_ROLES);
export type TokenRole = Static<typeof TokenRole>;

/**
 * Every role a request can act as. `service` is a server holding the tenant secret key; `partner`
 * is a property platform's server holding its partner secret key (it reads its own residents'
 * tickets, events and webhooks and its estates' zones, nothing else); `public` is a browser
 * holding only a publishable key (it may create anonymous reports and read the catalogue).
 */
export const ROLES = [...TOKEN_ROLES, 'service', 'partner', 'public'] as const;
export const Role = StringEnum(ROLES);
export type Role = Static<typeof Role>;

export const Actor = Type.Object(
  {
    // 128 for the signer's own id, plus room for a partner's namespace (partner:<id>:).
    sub: Type.String({ minLength: 1, maxLength: 160, description: "Stable id of who acted (a partner's resident: partner:<partnerId>:<their id>)" }),
    role: Role,
    name: Type.Optional(Type.String({ maxLength: 100 })),
    unitId: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type Actor = Static<typeof Actor>;

/** The authenticated caller of a request: an actor inside one tenant. */
export interface Principal extends Actor {
  tenantId: string;
  /** How the caller authenticated. */
  via: 'secret_key' | 'publishable_key' | 'token';
  /** The coordinate system the caller's API key says its points are in, when its key names one. */
  crs?: CrsName;
  /**
   * The partner (property platform) whose key or token this is: its server (role partner), its
   * publishable key (role public), or a resident it signed for (role citizen, sub namespaced).
   */
  partnerId?: string;
}

/** Claims of a CivicLoop token (a compact JWS, HS256, signed with a key derived from the tenant secret). */
export const TokenClaims = Type.Object({
  iss: Type.String({ description: 'Tenant id' }),
  sub: Type.String({ minLength: 1, maxLength: 128 }),
  role: TokenRole,
  name: Type.Optional(Type.String({ maxLength: 100 })),
  unit: Type.Optional(Type.String({ maxLength: 64 })),
  anon: Type.Optional(Type.Boolean({ description: 'set by the gateway on the tokens of anonymous residents (sub anon:...)' })),
  iat: Type.Integer(),
  exp: Type.Integer(),
});
export type TokenClaims = Static<typeof TokenClaims>;

export const STAFF_ROLES = ['dispatcher', 'worker', 'supervisor', 'admin', 'steward'] as const;

/** Staff and the tenant's own servers: not residents, browsers or partners' servers. */
export function isStaff(role: Role): boolean {
  return role !== 'citizen' && role !== 'public' && role !== 'partner';
}
