// Bundles the browser side (src/page) into dist/public: console.js, and the chunks it loads later
// (the ticket actions, with the state machine and schemas, come with the first ticket opened).
// No inline script.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

rmSync('dist/public', { recursive: true, force: true });
mkdirSync('dist/public', { recursive: true });
const page = await build({
  entryPoints: { console: 'src/page/console.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outdir: 'dist/public',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  metafile: true,
});
// The chunks console.js imports before it runs: the page asks for them beside it (modulepreload),
// not one round trip after it.
const preload = page.metafile.outputs['dist/public/console.js'].imports
  .filter((i) => i.kind === 'import-statement')
  .map((i) => `/${i.path.slice('dist/public/'.length)}`);
writeFileSync('dist/public/preload.json', JSON.stringify(preload));
copyFileSync('src/public/console.css', 'dist/public/console.css');
// MapLibre's stylesheet and worker, served by the console when a map style is configured.
const maplibreDir = new URL('dist/', pathToFileURL(createRequire(import.meta.url).resolve('maplibre-gl/package.json')));
copyFileSync(new URL('maplibre-gl.css', maplibreDir), 'dist/public/maplibre-gl.css');
copyFileSync(new URL('maplibre-gl-worker.mjs', maplibreDir), 'dist/public/maplibre-gl-worker.mjs');
