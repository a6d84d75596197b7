import { defineConfig } from 'tsup';

export default defineConfig({
  // report, token and crs are what browsers import: small entries without the schemas' TypeBox.
  entry: ['src/index.ts', 'src/report.ts', 'src/token.ts', 'src/crs.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
