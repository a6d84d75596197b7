import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import sharp from 'sharp';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// A client generated from the OpenAPI document alone (openapi-typescript's types, openapi-fetch
// at run time), type-checked, then driving the whole loop against a real gateway: photos
// uploaded, a report, dispatch, accept, arrive, resolve with the after-photo, verify, feedback.
const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
// Inside the repository, so the script finds openapi-fetch in its node_modules.
const dir = path.join(root, '.test-results', 'openapi-client');

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CLIENT = `import createClient from 'openapi-fetch';
import { readFileSync } from 'node:fs';
import type { paths } from './civicloop.js';

const [baseUrl, resident, dispatcher, worker, supervisor, photoFile] = process.argv.slice(2) as [string, string, string, string, string, string];
const as = (token: string) => createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
const fail = (step: string, error: unknown): never => {
  throw new Error(\`\${step}: \${JSON.stringify(error)}\`);
};
const photo = new Blob([readFileSync(photoFile)], { type: 'image/jpeg' });
const upload = async (token: string) => {
  const { data, error } = await as(token).POST('/v1/media', {
    body: { file: photo },
    bodySerializer: (body) => {
      const form = new FormData();
      form.append('file', body!.file, 'photo.jpg');
      return form;
    },
  });
  return data ?? fail('upload', error);
};

const before = await upload(resident);
const created = await as(resident).POST('/v1/tickets', {
  body: {
    category: 'sanitation.bin_overflow',
    description: 'Bin overflowing, from a generated client',
    location: { lat: 23.1291, lon: 113.2644 },
    photos: [{ ref: before.ref }],
  },
  params: { header: { 'idempotency-key': 'generated-client-1' } },
});
const ticket = created.data ?? fail('create', created.error);
const id = ticket.id;
const step = async (name: string, call: Promise<{ data?: { ticket: { status: string } }; error?: unknown }>) => {
  const { data, error } = await call;
  return data?.ticket.status ?? fail(name, error);
};
const statuses: string[] = [ticket.status];
const dispatched = as(dispatcher).POST('/v1/tickets/{id}/dispatch', { params: { path: { id } }, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
statuses.push(await step('dispatch', dispatched));
statuses.push(await step('accept', as(worker).POST('/v1/tickets/{id}/accept', { params: { path: { id } }, body: {} })));
statuses.push(await step('arrive', as(worker).POST('/v1/tickets/{id}/arrive', { params: { path: { id } }, body: {} })));
const after = await upload(worker);
const resolved = as(worker).POST('/v1/tickets/{id}/resolve', { params: { path: { id } }, body: { photos: [{ ref: after.ref }], note: 'Emptied' } });
statuses.push(await step('resolve', resolved));
statuses.push(await step('verify', as(supervisor).POST('/v1/tickets/{id}/verify', { params: { path: { id } }, body: { outcome: 'pass' } })));
statuses.push(await step('feedback', as(resident).POST('/v1/tickets/{id}/feedback', { params: { path: { id } }, body: { rating: 5, comment: 'Quick' } })));
const read = await as(dispatcher).GET('/v1/tickets/{id}', { params: { path: { id } } });
const final = read.data ?? fail('read', read.error);
const history = await as(dispatcher).GET('/v1/tickets/{id}/history', { params: { path: { id } } });
// A refusal comes back typed as the document's ErrorResponse.
const refused = await as(resident).POST('/v1/tickets', { body: { category: 'no.such', description: 'x', location: { lat: 1, lon: 2 } } });
console.log(JSON.stringify({
  statuses,
  final: { status: final.status, photos: final.photos.length, afterPhotos: final.afterPhotos.length, rating: final.feedback?.rating },
  events: (history.data ?? fail('history', history.error)).items.map((e) => e.type),
  refused: refused.error?.error.code,
}));
`;

describe('a client generated from the OpenAPI document', () => {
  it('type-checks against the document and drives the whole loop, photos included', { timeout: 180_000 }, async () => {
    const document = (await api(gw.url, 'GET', '/v1/openapi.json')).body;
    // A file part is a Blob in a browser or Node 20, as openapi-typescript's documentation shows.
    const blob = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));
    const ast = await openapiTS(document, { transform: (schema) => (schema.format === 'binary' ? blob : undefined) });
    writeFileSync(path.join(dir, 'civicloop.ts'), astToString(ast));
    writeFileSync(path.join(dir, 'client.ts'), CLIENT);
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    const checked = await exec(
      tsc,
      [
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'esnext',
        '--moduleResolution',
        'bundler',
        '--lib',
        'es2022,dom',
        '--types',
        'node',
        '--skipLibCheck',
        'client.ts',
      ],
      { cwd: dir, timeout: 120_000 },
    ).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(checked).toBe('');

    const photo = path.join(dir, 'photo.jpg');
    writeFileSync(
      photo,
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#7a5' } })
        .jpeg()
        .toBuffer(),
    );
    const tokens = await Promise.all([
      gw.tenant.token('resident-77', 'citizen'),
      gw.tenant.token('disp-7', 'dispatcher'),
      gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
      gw.tenant.token('sup-7', 'supervisor'),
    ]);
    const { stdout } = await exec(path.join(root, 'node_modules', '.bin', 'tsx'), ['client.ts', gw.url, ...tokens, photo], { cwd: dir, timeout: 120_000 });
    const result = JSON.parse(stdout);
    expect(result).toEqual({
      statuses: ['reported', 'dispatched', 'accepted', 'on_site', 'resolved', 'closed', 'closed'],
      final: { status: 'closed', photos: 1, afterPhotos: 1, rating: 5 },
      events: ['reported', 'dispatched', 'accepted', 'arrived', 'resolved', 'verified', 'feedback_recorded'],
      refused: 'CL_ERR_UNKNOWN_CATEGORY',
    });
  });
});
