import { defineConfig } from 'tsup';

const browser = { platform: 'browser', target: 'es2022', sourcemap: true, clean: false } as const;
// Leaflet's stylesheet goes in as text (adopted into the shadow root).
const css = { loader: { '.css': 'text' } } as const;

export default defineConfig([
  // For bundlers: `import '@civicloop/widget'` defines the element; dependencies stay imports,
  // and the pin map (Leaflet) is a chunk of its own, loaded when a map is configured.
  { ...browser, ...css, entry: { index: 'src/index.ts' }, format: ['esm'], dts: true, noExternal: [/leaflet\.css$/] },
  // The photo checks on their own (`@civicloop/widget/photos`), for staff apps that take photos too.
  { ...browser, entry: { photos: 'src/photos.ts' }, format: ['esm'], dts: true },
  // What the script-tag loader pulls: one self-contained module, minified. The pin map is not in
  // it: it is imported at run time from beside it (civicloop-pin-map.js), so a visitor without a
  // map never downloads Leaflet and nothing is split into shared chunks (one request, not three).
  {
    ...browser,
    entry: { 'civicloop-widget': 'src/index.ts' },
    format: ['esm'],
    noExternal: [/.*/],
    minify: true,
    esbuildPlugins: [
      {
        name: 'pin-map-beside',
        setup(build) {
          build.onResolve({ filter: /^\.\/pin-map\.js$/ }, () => ({ path: './civicloop-pin-map.js', external: true }));
        },
      },
    ],
  },
  { ...browser, ...css, entry: { 'civicloop-pin-map': 'src/pin-map.ts' }, format: ['esm'], noExternal: [/.*/], minify: true },
  // The loader itself: a classic script (document.currentScript needs one), as small as it gets.
  { ...browser, entry: { loader: 'src/loader.ts' }, format: ['iife'], minify: true, outExtension: () => ({ js: '.js' }) },
]);
