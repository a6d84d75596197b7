// The mini-program's copy of @civicloop/sdk/wechat, as WeChat DevTools' "构建 npm" would make it:
// one CommonJS file the pages and components require by path (a mini-program has no node_modules
// at run time). It is build output: not committed.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(import.meta.resolve('@civicloop/sdk/wechat'));
await build({
  entryPoints: [entry],
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  // What the mini-program base library runs without its own ES6-to-ES5 pass.
  target: 'es2018',
  outfile: fileURLToPath(new URL('./miniprogram/lib/civicloop.js', import.meta.url)),
  logLevel: 'warning',
  legalComments: 'none',
});
