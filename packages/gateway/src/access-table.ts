import { COMMAND_ROLES, ROLE_GROUPS, type Role } from '@civicloop/model';
import type { Access } from './core/services.js';

const GROUP_NAMES = new Map(Object.entries(ROLE_GROUPS).map(([name, roles]) => [[...roles].sort().join(','), name]));

/** A list of roles, said as its group when it is exactly one (`people`), else role by role. */
function rolesText(roles: readonly Role[]): string {
  const group = GROUP_NAMES.get([...roles].sort().join(','));
  return group ? `${group}` : roles.join(', ');
}

function accessText(access: Access): string {
  switch (access.kind) {
    case 'none':
      return 'anyone, no key';
    case 'device':
      return "the device's own secret, no key";
    case 'operator':
      return 'operator token (CIVICLOOP_OPERATOR_TOKEN)';
    case 'broker':
      return 'broker hook token (BROKER_HOOK_TOKEN)';
    case 'roles':
      return rolesText(access.roles);
  }
}

/**
 * docs/access.md: every route with the roles it takes (as the routes declare them), every ticket
 * command with its roles (the state machine's rules), and the groups both name (ROLE_GROUPS).
 */
export function describeAccess(routes: ReadonlyMap<string, Access>): string {
  const byPath = [...routes].sort(([a], [b]) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!) || a.localeCompare(b));
  return [
    '# Who may do what',
    '',
    'Generated from the code (`UPDATE_DOCS=1 npx vitest run docs/access.test.ts` writes it; the test fails when it',
    'is out of date): the routes as they declare their access, the ticket commands as the state machine allows',
    'them, and the groups of roles both name (`ROLE_GROUPS` in `packages/model/src/access.ts`). A role reaching',
    'a route is necessary, not always enough: a command is also checked against the ticket (only its assignee',
    'accepts it, only its reporter cancels it), a resident sees only their own and published tickets, and a',
    "partner only its own residents' ([partners](partners.md)). Open311's POST takes its `api_key` as a form",
    'field, which the route checks itself ([Open311](open311.md)).',
    '',
    '## Groups of roles',
    '',
    '| Group | Roles |',
    '| --- | --- |',
    ...Object.entries(ROLE_GROUPS).map(([name, roles]) => `| ${name} | ${roles.join(', ')} |`),
    '',
    '## Ticket commands (`POST /v1/tickets/{id}/<command>`)',
    '',
    '| Command | Roles |',
    '| --- | --- |',
    ...Object.entries(COMMAND_ROLES).map(([name, roles]) => `| \`${name}\` | ${rolesText(roles)} |`),
    '',
    '## Routes',
    '',
    '| Route | Who |',
    '| --- | --- |',
    ...byPath.map(([route, access]) => `| \`${route}\` | ${accessText(access)} |`),
    '',
  ].join('\n');
}
