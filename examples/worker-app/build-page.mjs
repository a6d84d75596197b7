// Bundles the browser side into dist/public: app.js with the chunks it loads later (the badge's
// MQTT client comes only once a worker is on duty), the service worker with the list of files it
// keeps, the manifest and the icons (PNG rendered from the SVG). No inline script.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

const out = 'dist/public';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/icons`, { recursive: true });
const app = await build({
  entryPoints: { app: 'src/page/app.ts' },
  metafile: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
// The chunks app.js imports before it runs: the page asks for them beside it (modulepreload),
// not one round trip after it.
const preload = app.metafile.outputs[`${out}/app.js`].imports.filter((i) => i.kind === 'import-statement').map((i) => `/${i.path.slice(out.length + 1)}`);
writeFileSync(`${out}/preload.json`, JSON.stringify(preload));
copyFileSync('src/public/app.css', `${out}/app.css`);
copyFileSync('src/public/icon.svg', `${out}/icons/icon.svg`);
for (const size of [192, 512]) await sharp('src/public/icon.svg', { density: 300 }).resize(size, size).png().toFile(`${out}/icons/icon-${size}.png`);
writeFileSync(
  `${out}/manifest.webmanifest`,
  JSON.stringify(
    {
      name: 'CivicLoop 我的工单 · My jobs',
      short_name: '我的工单',
      description: 'Field jobs: accept, arrive, resolve with a photo; works offline.',
      id: '/',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      orientation: 'portrait',
      background_color: '#ffffff',
      theme_color: '#0b5d3b',
      lang: 'zh-CN',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
      ],
    },
    null,
    2,
  ),
);

// What the service worker keeps: the shell and every built file but source maps; its version is
// their content, so a new build replaces the old cache.
const files = [
  '/shell',
  ...readdirSync(out, { recursive: true })
    .map(String)
    .filter((f) => !f.endsWith('.map') && !f.endsWith('/') && /\.(js|css|webmanifest|png|svg)$/.test(f))
    .map((f) => `/${f}`),
].sort();
const version = createHash('sha256');
for (const file of files.filter((f) => f !== '/shell')) version.update(file).update(readFileSync(`${out}${file}`));
await build({
  entryPoints: { sw: 'src/page/sw.ts' },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  outdir: out,
  define: { __PRECACHE__: JSON.stringify(files), __VERSION__: JSON.stringify(version.digest('hex').slice(0, 16)) },
  logLevel: 'warning',
});
