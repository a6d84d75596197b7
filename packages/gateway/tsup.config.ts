import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The CLI is run directly; the shebang makes `npx civicloop-gateway` work.
  banner: ({ format }) => (format === 'esm' ? { js: '' } : {}),
});
