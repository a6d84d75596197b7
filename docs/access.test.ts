import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_ROLES, ROLE_GROUPS } from '@civicloop/model';
import { describeAccess } from '@civicloop/gateway';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

const file = new URL('./access.md', import.meta.url);
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('docs/access.md', () => {
  it('lists every route and command with the roles the code gives them', () => {
    const generated = describeAccess(gw.access);
    if (process.env.UPDATE_DOCS) writeFileSync(file, generated);
    expect(readFileSync(file, 'utf8')).toBe(generated);
    // What it was generated from: every route the gateway serves, every command, every group.
    expect(gw.access.get('POST /v1/tickets')).toEqual({ kind: 'roles', roles: ['public', ...ROLE_GROUPS.people] });
    expect(gw.access.size).toBeGreaterThan(60);
    for (const name of Object.keys(COMMAND_ROLES)) expect(generated).toContain(`| \`${name}\` |`);
  });
});
