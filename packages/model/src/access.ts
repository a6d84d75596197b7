import type { Role } from './schemas/principal.js';

const PEOPLE = ['citizen', 'steward', 'dispatcher', 'worker', 'supervisor', 'admin', 'service'] as const;

/**
 * Who may do what: the groups of roles that the ticket commands (the state machine) and the
 * gateway's routes name. docs/access.md lists every route and command with the roles it takes,
 * generated from the routes' own declarations and COMMAND_ROLES, and checked by a test.
 */
export const ROLE_GROUPS = {
  /** Everyone who works for the city, and the tenant's own servers (secret key). */
  staff: ['steward', 'dispatcher', 'worker', 'supervisor', 'admin', 'service'],
  /** Residents and staff: everyone with a token, and servers. */
  people: PEOPLE,
  /** People, and a partner's server (scoped to its own residents). */
  peopleAndPartners: [...PEOPLE, 'partner'],
  admins: ['admin', 'service'],
  /** Those who dispatch and reassign. */
  managers: ['dispatcher', 'admin', 'service'],
  /** Those who do the work on site. */
  fieldStaff: ['worker', 'admin', 'service'],
  verifiers: ['supervisor', 'admin', 'service'],
  /** Those who decide about work under way or done: reopen a ticket, grant or refuse an extension. */
  deciders: ['dispatcher', 'supervisor', 'admin', 'service'],
  urgers: ['citizen', 'dispatcher', 'admin', 'service'],
} as const satisfies Record<string, readonly Role[]>;

export type RoleGroup = keyof typeof ROLE_GROUPS;
