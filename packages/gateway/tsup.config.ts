import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/stats-worker.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  // import.meta.url in the CommonJS build too (pathToFileURL(__filename)): the widget's files, the
  // HEIC decoder and the statistics thread are found beside the module that asks.
  shims: true,
  target: 'node20',
});
