// Size budgets of what a resident's browser downloads, gzipped. `npm run build` fails above them.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

// civicloop-widget.js was 25 KB until the resident flow of issue 15 came in (2 December 2026):
// the pin map's hand-off and the address lookup, following and chasing (催办), the category grid
// with icons, the camera tile, required marks and upload progress (25.3 -> 27.3 KB). The map itself
// is its own file, fetched only when a map is configured and a report started. 29 KB since issue
// 16: each tenant's category questions asked in the form (27.3 -> 28.5 KB). 30 KB since the SDK
// client gained its partners namespace (28.9 -> 29.0 KB): the widget bundles the whole client,
// admin namespaces it never calls included (a resident-only client would cut that).
export const BUDGETS = { 'loader.js': 2 * 1024, 'civicloop-widget.js': 30 * 1024, 'civicloop-pin-map.js': 52 * 1024 };

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
