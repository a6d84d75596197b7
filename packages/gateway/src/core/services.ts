import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, ROLE_GROUPS, type Principal, type Role } from '@civicloop/model';
import type { GatewayConfig } from './config.js';
import type { CategoryStore } from '../store/category-store.js';
import type { DirectoryStore } from '../store/directory-store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { TicketStore } from '../store/ticket-store.js';
import type { ZoneStore } from '../store/zone-store.js';
import type { PartnerStore } from '../store/partner-store.js';
import type { DeviceStore } from '../store/device-store.js';
import type { ProvisioningStore } from '../store/provisioning-store.js';
import type { AddressLimits } from '../store/address-limits.js';
import type { MediaUrls } from '../media/media-urls.js';
import type { RateLimiter } from './rate-limit.js';

/** What route handlers share; built once per app. */
export interface Services {
  config: GatewayConfig;
  redis: Redis | Cluster;
  tickets: TicketStore;
  tenants: TenantStore;
  /** Each tenant's catalogue of categories (the built-in list with the tenant's own definitions). */
  categories: CategoryStore;
  directory: DirectoryStore;
  zones: ZoneStore;
  /** Property platforms inside a tenant, with keys of their own (docs/partners.md). */
  partners: PartnerStore;
  devices: DeviceStore;
  /** Provisioning profiles: devices that register themselves with a profile's key and secret (ThingsBoard's provisioning). */
  provisioning: ProvisioningStore;
  /** Signs links to stored photos for readers who may see them. */
  mediaUrls: MediaUrls;
  /** Per-address limits shared by all gateways (failed authentications, keyless routes). */
  addressLimits: AddressLimits;
  /** Per credential (a key, a token's subject, a device) and per address, counted in this process. */
  requestLimits: RateLimiter;
  log?: import('fastify').FastifyBaseLogger;
  /** Injected so tests can move time; the gateway uses the wall clock. */
  now: () => Date;
}

/** Route-level access rule, read by the auth hook. */
export type Access =
  | { kind: 'none' }
  /**
   * A device protocol over HTTP (OsmAnd, OwnTracks): no API key, the device's own secret, which the
   * route checks. Held by the keyless per-address limit; an address past its failed-login limit is
   * refused by the route, not before it, so that a secret verified within a day still gets in.
   */
  | { kind: 'device' }
  | { kind: 'operator' }
  /** An external MQTT broker's authentication and authorization calls (Bearer BROKER_HOOK_TOKEN). */
  | { kind: 'broker' }
  | { kind: 'roles'; roles: readonly Role[] };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

// The role groups routes name, from the model's one table (ROLE_GROUPS; docs/access.md lists who reaches what).
export const STAFF: readonly Role[] = ROLE_GROUPS.staff;
export const PEOPLE: readonly Role[] = ROLE_GROUPS.people;
export const ADMINS: readonly Role[] = ROLE_GROUPS.admins;
export const MANAGERS_AND_SERVERS: readonly Role[] = ROLE_GROUPS.managers;
/** People and a partner's server: the reads a partner may make about its own residents (scoped by visibility). */
export const PEOPLE_AND_PARTNERS: readonly Role[] = ROLE_GROUPS.peopleAndPartners;

export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (roles.includes(principal.role)) return;
  if (principal.role === 'public') throw new CivicLoopError('CL_ERR_PUBLISHABLE_KEY_SCOPE');
  if (principal.role === 'partner') throw new CivicLoopError('CL_ERR_PARTNER_SCOPE');
  throw new CivicLoopError('CL_ERR_FORBIDDEN', `Role ${principal.role} may not do this; allowed: ${roles.join(', ')}.`);
}
