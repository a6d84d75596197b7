import { defineConfig } from 'tsup';

const browser = { platform: 'browser', target: 'es2022', sourcemap: true, clean: false } as const;

export default defineConfig([
  // For bundlers: `import '@civicloop/widget'` defines the element; dependencies stay imports.
  { ...browser, entry: { index: 'src/index.ts' }, format: ['esm'], dts: true },
  // The photo checks on their own (`@civicloop/widget/photos`), for staff apps that take photos too.
  { ...browser, entry: { photos: 'src/photos.ts' }, format: ['esm'], dts: true },
  // What the script-tag loader pulls: one self-contained module, minified.
  { ...browser, entry: { 'civicloop-widget': 'src/index.ts' }, format: ['esm'], noExternal: [/.*/], minify: true },
  // The loader itself: a classic script (document.currentScript needs one), as small as it gets.
  { ...browser, entry: { loader: 'src/loader.ts' }, format: ['iife'], minify: true, outExtension: () => ({ js: '.js' }) },
]);
