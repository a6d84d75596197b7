// Leaflet's ES module build has the types of the package.
declare module 'leaflet/dist/leaflet-src.esm.js' {
  export * from 'leaflet';
}

// Leaflet's stylesheet, bundled as text (tsup's loader) and adopted into the widget's shadow root.
declare module 'leaflet/dist/leaflet.css' {
  const css: string;
  export default css;
}
