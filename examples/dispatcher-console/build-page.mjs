// Bundles the browser side (src/page) into dist/public/console.js: one file, no inline script.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/public', { recursive: true });
await build({ entryPoints: ['src/page/console.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, sourcemap: true, outfile: 'dist/public/console.js', logLevel: 'warning' });
copyFileSync('src/public/console.css', 'dist/public/console.css');
