// Size budgets of what a resident's browser downloads, gzipped. `npm run build` fails above them.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const BUDGETS = { 'loader.js': 2 * 1024, 'civicloop-widget.js': 25 * 1024 };

export function measure(distDir = fileURLToPath(new URL('./dist/', import.meta.url))) {
  return Object.entries(BUDGETS).map(([file, budget]) => {
    const gzipped = gzipSync(readFileSync(new URL(file, `file://${distDir.endsWith('/') ? distDir : `${distDir}/`}`)), { level: 9 }).length;
    return { file, gzipped, budget, ok: gzipped <= budget };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = measure();
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'OVER'} ${r.file}: ${r.gzipped} B gzipped (budget ${r.budget} B)`);
  if (results.some((r) => !r.ok)) {
    console.error('A widget bundle is over its size budget; see docs/widget.md#budgets.');
    process.exit(1);
  }
}
