// Leaflet's ES module build (its package main is a UMD script).
import { control, map as leafletMap, tileLayer, type Map as LeafletMap } from 'leaflet/dist/leaflet-src.esm.js';
import leafletCss from 'leaflet/dist/leaflet.css';
import { fromWgs84, toWgs84 } from '@civicloop/model/crs';
import type { CrsName } from '@civicloop/model/report';

/** The tiles the resident's map draws: a raster template, its credit, and the system it is drawn in. */
export interface MapTiles {
  url: string;
  attribution?: string;
  /** GCJ-02 for AMap or Tencent tiles, BD-09 for Baidu's, WGS-84 for OpenStreetMap. */
  crs: CrsName;
}

/** Where the pin stands, in the tiles' system, and how closely a finger can place it at this zoom. */
export interface PinnedPoint {
  lat: number;
  lon: number;
  crs: CrsName;
  accuracy: number;
}

export interface PinMap {
  /** Puts the pin (and the map's centre) on a point given in any system. */
  moveTo(point: { lat: number; lon: number; crs?: CrsName }): void;
  destroy(): void;
}

const START_ZOOM = 17;
/** A pin placed by hand is good to about this many pixels. */
const PLACEMENT_PX = 8;

let adopted: CSSStyleSheet | undefined;

/** The point in the tiles' system (through WGS-84 when it comes in another). */
function inTiles(point: { lat: number; lon: number; crs?: CrsName }, crs: CrsName): { lat: number; lon: number } {
  const from = point.crs ?? 'wgs84';
  if (from === crs) return point;
  const wgs = toWgs84(point.lat, point.lon, from);
  return fromWgs84(wgs.lat, wgs.lon, crs);
}

/**
 * A small map with a pin fixed at its centre: the resident drags (or, focused, moves with the
 * arrow keys and zooms with + and -) the map under the pin onto the problem. Leaflet: raster tiles
 * as <img>, no workers and no eval, so the host page's strict CSP needs only the tiles' origin in
 * img-src. Its stylesheet is adopted into the shadow root like the widget's own.
 */
export function pinMap(
  box: HTMLElement,
  start: { lat: number; lon: number; crs?: CrsName },
  tiles: MapTiles,
  label: string,
  onMove: (point: PinnedPoint) => void,
): PinMap {
  const root = box.getRootNode();
  if (root instanceof ShadowRoot) {
    adopted ??= (() => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(leafletCss);
      return sheet;
    })();
    if (!root.adoptedStyleSheets.includes(adopted)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, adopted];
  }
  // Built by hand rather than with dom.ts's h(): sharing it would split it into a chunk of its own, one more request for every visitor.
  const canvas = document.createElement('div');
  canvas.className = 'pin-map';
  canvas.setAttribute('part', 'map');
  canvas.setAttribute('role', 'region');
  canvas.setAttribute('aria-label', label);
  const marker = document.createElement('div');
  marker.className = 'pin';
  marker.setAttribute('aria-hidden', 'true');
  box.replaceChildren(canvas, marker);
  const centre = inTiles(start, tiles.crs);
  const map: LeafletMap = leafletMap(canvas, {
    center: [centre.lat, centre.lon],
    zoom: START_ZOOM,
    attributionControl: false,
    keyboard: true,
    inertia: false,
    scrollWheelZoom: 'center',
    touchZoom: 'center',
    doubleClickZoom: 'center',
  });
  tileLayer(tiles.url, { maxZoom: 19, ...(tiles.attribution ? { attribution: tiles.attribution } : {}) }).addTo(map);
  control.attribution({ prefix: false }).addTo(map);
  // Moves made by moveTo are not the resident's: they do not place the pin. (No inertia: the pin
  // stays where the finger left it.)
  let placing = false;
  map.on('moveend', () => {
    if (placing) return;
    const c = map.getCenter();
    const metresPerPixel = (40_075_016.686 * Math.cos((c.lat * Math.PI) / 180)) / 2 ** (map.getZoom() + 8);
    onMove({ lat: Number(c.lat.toFixed(7)), lon: Number(c.lng.toFixed(7)), crs: tiles.crs, accuracy: Math.max(1, Math.round(metresPerPixel * PLACEMENT_PX)) });
  });
  return {
    moveTo(point) {
      const p = inTiles(point, tiles.crs);
      placing = true;
      try {
        map.setView([p.lat, p.lon], map.getZoom(), { animate: false });
      } finally {
        placing = false;
      }
    },
    destroy() {
      map.remove();
      box.replaceChildren();
    },
  };
}
