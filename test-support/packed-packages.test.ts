import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The published packages as a stranger gets them: each packed into its tarball (npm pack, after
// the build the test command runs first), installed into an empty project with its declared
// dependencies only, then imported in ESM and CommonJS and type-checked the three ways TypeScript
// resolves packages. publint and arethetypeswrong check the packages themselves.
const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const PACKAGES = ['model', 'sdk', 'widget'] as const;

let dir: string;
let consumer: string;
const tarballs: Record<string, string> = {};
const run = (command: string, args: string[], cwd = consumer) =>
  exec(command, args, {
    cwd,
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'civicloop-packed-'));
  consumer = path.join(dir, 'consumer');
  await exec('mkdir', ['-p', consumer]);
  await run('npm', ['pack', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', `@civicloop/${p}`])], root);
  for (const file of readdirSync(dir)) {
    const name = PACKAGES.find((p) => file.startsWith(`civicloop-${p}-`));
    if (name) tarballs[name] = path.join(dir, file);
  }
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // Only what the tarballs declare, from the registry: no workspace, no hoisted devDependencies.
  await run('npm', ['install', '--ignore-scripts', '--no-package-lock', ...PACKAGES.map((p) => tarballs[p]!)]);
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the published packages, installed on their own', { timeout: 240_000 }, () => {
  it('each carries its README, LICENSE and engines, and nothing of the workspace', async () => {
    for (const name of PACKAGES) {
      const { stdout } = await run('tar', ['-tzf', tarballs[name]!]);
      const files = stdout.split('\n').filter(Boolean);
      expect(files, name).toEqual(expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/package.json']));
      expect(
        files.some((f) => f.includes('/src/') || f.endsWith('.test.ts') || f.includes('node_modules')),
        name,
      ).toBe(false);
      const manifest = JSON.parse((await run('tar', ['-xzOf', tarballs[name]!, 'package/package.json'])).stdout) as {
        engines?: { node?: string };
        license?: string;
      };
      expect(manifest.engines?.node, name).toBe('>=20.10');
      expect(manifest.license, name).toBe('Apache-2.0');
    }
  });

  it('imports in ESM and CommonJS, subpaths included, without mqtt until the device client is wanted', async () => {
    writeFileSync(
      path.join(consumer, 'esm.mjs'),
      `import { CivicLoop, signToken, InvalidRequestError } from '@civicloop/sdk';
import { findCategory, TenantCatalogue } from '@civicloop/model';
import { signToken as signAlone } from '@civicloop/model/token';
import { CreateTicketInput } from '@civicloop/model/report';
import { toWgs84 } from '@civicloop/model/crs';
import { WechatCivicLoop } from '@civicloop/sdk/wechat';
const token = await signToken({ secretKey: 'cl_sk_t_0123456789.abcdefghijklmnopqrstuvwxyz012345', sub: 'flat-1', role: 'citizen' });
const client = new CivicLoop({ baseUrl: 'http://127.0.0.1:9', apiKey: 'cl_pk_x' });
console.log(JSON.stringify({
  client: typeof client.tickets.create,
  token: token.split('.').length,
  alone: typeof signAlone,
  error: typeof InvalidRequestError,
  bin: findCategory('sanitation.bin_overflow').name.en,
  catalogue: new TenantCatalogue([]).catalogue().categories.length,
  schema: CreateTicketInput.type,
  crs: typeof toWgs84,
  wechat: typeof WechatCivicLoop,
}));
`,
    );
    writeFileSync(
      path.join(consumer, 'cjs.cjs'),
      `const { CivicLoop } = require('@civicloop/sdk');
const { findCategory } = require('@civicloop/model');
const { signToken } = require('@civicloop/model/token');
const { CreateTicketInput } = require('@civicloop/model/report');
const { wechatFetch } = require('@civicloop/sdk/wechat');
console.log(JSON.stringify({
  wechat: typeof wechatFetch,
  client: typeof new CivicLoop({ baseUrl: 'http://127.0.0.1:9', apiKey: 'cl_pk_x' }).tickets.list,
  bin: findCategory('sanitation.bin_overflow').name.en,
  token: typeof signToken,
  schema: CreateTicketInput.type,
}));
`,
    );
    const esm = JSON.parse((await run('node', ['esm.mjs'])).stdout);
    expect(esm).toEqual({
      client: 'function',
      token: 3,
      alone: 'function',
      error: 'function',
      bin: 'Overflowing bin',
      catalogue: 52,
      schema: 'object',
      crs: 'function',
      wechat: 'function',
    });
    const cjs = JSON.parse((await run('node', ['cjs.cjs'])).stdout);
    expect(cjs).toEqual({ wechat: 'function', client: 'function', bin: 'Overflowing bin', token: 'function', schema: 'object' });

    // mqtt is an optional peer: not installed with the SDK, named when the device client needs it.
    expect(existsSync(path.join(consumer, 'node_modules', 'mqtt'))).toBe(false);
    writeFileSync(path.join(consumer, 'device.mjs'), "const { DeviceClient } = await import('@civicloop/sdk/device'); console.log(typeof DeviceClient);\n");
    const missing = await run('node', ['device.mjs']).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(missing).toMatch(/Cannot find package 'mqtt'/);
    await run('npm', ['install', '--ignore-scripts', '--no-package-lock', 'mqtt@^5']);
    expect((await run('node', ['device.mjs'])).stdout.trim()).toBe('function');
  });

  it('type-checks under moduleResolution node16 (ESM and CJS), bundler and node10, subpaths included', async () => {
    const tsc = bin('tsc');
    const use = `const ticket: Ticket | undefined = undefined;
const question: Question | undefined = undefined;
const client = new CivicLoop({ baseUrl: 'http://127.0.0.1:9', apiKey: 'cl_pk_x' });
const category: Category | undefined = findCategory('sanitation.bin_overflow');
const input: CreateTicketInputType = { category: 'sanitation.bin_overflow', description: 'x', location: { lat: 1, lon: 2 }, answers: { size: 'big' } };
export const used = [ticket, question, client, category, input, signAlone, CreateTicketInput, toWgs84, preparePhoto];
`;
    const imports = `import { CivicLoop, type Ticket, type Question } from '@civicloop/sdk';
import { findCategory, type Category, type CreateTicketInput as CreateTicketInputType } from '@civicloop/model';
import { signToken as signAlone } from '@civicloop/model/token';
import { CreateTicketInput } from '@civicloop/model/report';
import { toWgs84 } from '@civicloop/model/crs';
import { preparePhoto } from '@civicloop/widget/photos';
import '@civicloop/widget';
import type { DeviceClient } from '@civicloop/sdk/device';
import { WechatCivicLoop, type WxLike } from '@civicloop/sdk/wechat';
export const wechat = (wx: WxLike) => new WechatCivicLoop(wx, { baseUrl: 'https://g', apiKey: 'cl_pk_x' });
export type Device = DeviceClient;
`;
    writeFileSync(path.join(consumer, 'use.mts'), `${imports}${use}`);
    writeFileSync(
      path.join(consumer, 'use-cjs.cts'),
      `${imports}${use}`
        .replace("import '@civicloop/widget';\n", '')
        .replace("import { preparePhoto } from '@civicloop/widget/photos';\n", 'const preparePhoto = undefined;\n'),
    );
    writeFileSync(path.join(consumer, 'use.ts'), `${imports}${use}`);
    const common = [
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--lib',
      'es2022,dom,dom.iterable',
      '--types',
      'node',
      '--typeRoots',
      path.join(root, 'node_modules', '@types'),
    ];
    const check = async (label: string, args: string[]) => {
      const result = await run(tsc, [...common, ...args]).then(
        () => '',
        (e: { stdout: string }) => e.stdout,
      );
      expect(result, label).toBe('');
    };
    await check('node16, ESM', ['--module', 'node16', '--moduleResolution', 'node16', 'use.mts']);
    await check('node16, CommonJS', ['--module', 'node16', '--moduleResolution', 'node16', 'use-cjs.cts']);
    await check('bundler', ['--module', 'esnext', '--moduleResolution', 'bundler', 'use.ts']);
    // node10 knows no "exports": the subpaths resolve through typesVersions. The widget is ES
    // modules only, so CommonJS code does not import it.
    await check('node10', ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop', 'use-cjs.cts']);
  });

  it('passes publint and arethetypeswrong', async () => {
    for (const name of PACKAGES) {
      const publint = await run(bin('publint'), ['run', '--strict', path.join(root, 'packages', name)], root).then(
        (r) => ({ ok: true, out: r.stdout }),
        (e: { stdout: string; stderr: string }) => ({ ok: false, out: e.stdout + e.stderr }),
      );
      expect(publint.ok, `${name}: ${publint.out}`).toBe(true);
      // The widget is ES modules only (it runs in browsers); loader.js and civicloop-widget.js are
      // scripts for <script src>, not modules to import.
      const profile = name === 'widget' ? ['--profile', 'esm-only', '--exclude-entrypoints', './loader.js', './civicloop-widget.js', './package.json'] : [];
      const attw = await run(bin('attw'), [tarballs[name]!, ...profile, '--format', 'ascii'], root).then(
        (r) => ({ ok: true, out: r.stdout }),
        (e: { stdout: string; stderr: string }) => ({ ok: false, out: e.stdout + e.stderr }),
      );
      expect(attw.ok, `${name}: ${attw.out}`).toBe(true);
    }
  });
});
