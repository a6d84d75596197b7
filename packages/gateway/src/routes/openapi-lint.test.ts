import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { OPERATION_IDS } from './openapi-document.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));

let gw: TestGateway;
let dir: string;
let document: {
  paths: Record<
    string,
    Record<
      string,
      { operationId?: string; requestBody?: { content: Record<string, unknown> }; responses: Record<string, { content?: Record<string, unknown> }> }
    >
  >;
  components: { schemas: Record<string, unknown> };
};
beforeAll(async () => {
  gw = await startTestGateway();
  dir = mkdtempSync(path.join(tmpdir(), 'civicloop-openapi-'));
  document = (await inject(gw, 'GET', '/v1/openapi.json')).body;
});
afterAll(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the OpenAPI document, linted', () => {
  it('passes redocly lint (its recommended rules, redocly.yaml) with no error and no warning', async () => {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const { stdout, stderr } = await exec(
      path.join(root, 'node_modules', '.bin', 'redocly'),
      ['lint', file, '--config', path.join(root, 'redocly.yaml'), '--format', 'json'],
      { cwd: root, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 },
    ).catch((error: { stdout: string; stderr: string }) => error);
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(
      report.problems.map((p) => `${p.ruleId}: ${p.message}`),
      stderr,
    ).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('names every operation from one table, and the table names no route that is gone', () => {
    const operations = Object.entries(document.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${p}`, op })),
    );
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const keys = new Set(operations.map((o) => o.key));
    // The commands name themselves (ticket_<command>); every other route is in the table.
    for (const key of Object.keys(OPERATION_IDS)) expect(keys, key).toContain(key);
  });

  it('keeps shared shapes once, describes the photo upload as a file and the event streams as server-sent events', () => {
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Ticket', 'CommandResult', 'ErrorResponse', 'Category']));
    expect(document.paths['/v1/tickets/{id}']!.get!.responses['200']!.content!['application/json']).toEqual({
      schema: { $ref: '#/components/schemas/Ticket' },
    });
    expect(document.paths['/v1/media']!.post!.requestBody!.content['multipart/form-data']).toMatchObject({
      schema: { required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
    });
    for (const stream of ['/v1/events', '/v1/fleet/events'])
      expect(Object.keys(document.paths[stream]!.get!.responses['200']!.content!)).toEqual(['text/event-stream']);
    // Small enough to read: it was 5 MB with every shape written out in every operation.
    expect(JSON.stringify(document).length).toBeLessThan(600_000);
  });
});
