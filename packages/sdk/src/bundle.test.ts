import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const entry = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
const modelSource = fileURLToPath(new URL('../../model/src/index.ts', import.meta.url));
const modelTokenSource = fileURLToPath(new URL('../../model/src/token.ts', import.meta.url));

async function bundleForBrowser(name: string) {
  const result = await build({
    entryPoints: [entry(name)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    minify: true,
    metafile: true,
    logLevel: 'silent',
    alias: { '@civicloop/model/token': modelTokenSource, '@civicloop/model': modelSource },
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

describe('the SDK in a browser bundle', () => {
  it('keeps mqtt out of the HTTP client, and needs no Node built-ins', async () => {
    const { code, inputs } = await bundleForBrowser('index');
    expect(inputs.filter((file) => file.includes('node_modules/mqtt'))).toEqual([]);
    expect(inputs.some((file) => file.includes('packages/sdk/src/client.ts'))).toBe(true);
    // Nor the model's schemas and TypeBox: signToken comes from the model's small token entry.
    expect(inputs.filter((file) => file.includes('@sinclair/typebox') || file.includes('model/src/schemas'))).toEqual([]);
    // A browser build would fail on a Node built-in; name the ones that matter anyway.
    expect(code).not.toMatch(/from"node:|require\("node:/);
  });

  it('bundles the device client, with mqtt, for browsers too', async () => {
    const { inputs } = await bundleForBrowser('device');
    expect(inputs.some((file) => file.includes('node_modules/mqtt'))).toBe(true);
  });
});
