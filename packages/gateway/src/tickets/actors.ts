import type { Principal } from '@civicloop/model';

/** Who acted, as ticket events record it: the principal without how it signed in. */
export function actorOf(principal: Principal) {
  const { tenantId: _t, via: _v, crs: _c, partnerId: _p, ...actor } = principal;
  return actor;
}

/** The actor of automatic dispatches, as it appears in ticket histories. */
export const ROUTER_SUB = 'system:router';
