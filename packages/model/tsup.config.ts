import { defineConfig } from 'tsup';

export default defineConfig({
  // report and token are what browsers import: small entries without the schemas' TypeBox.
  entry: ['src/index.ts', 'src/report.ts', 'src/token.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
