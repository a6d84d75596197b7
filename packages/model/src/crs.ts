// Coordinate systems: WGS-84 (GPS), GCJ-02 (AMap, Tencent, WeChat) and BD-09 (Baidu), by gcoord.
// Pure, no I/O: the gateway places every point with these, and browsers draw on Chinese tiles with them.
import gcoord from 'gcoord';
import type { CrsName } from './schemas/common.js';

export type LonLat = [lon: number, lat: number];

const SYSTEMS = { bd09: gcoord.BD09 } as const;

/**
 * WGS-84 to GCJ-02 or BD-09, by gcoord. Points outside China come back unchanged, as GCJ-02
 * defines; BD-09 is GCJ-02 offset again, so it is left alone out there too.
 */
function forward(point: LonLat, to: Exclude<CrsName, 'wgs84'>): LonLat {
  const gcj = gcoord.transform(point, gcoord.WGS84, gcoord.GCJ02) as LonLat;
  if (gcj[0] === point[0] && gcj[1] === point[1]) return point;
  return to === 'gcj02' ? gcj : (gcoord.transform(gcj, gcoord.GCJ02, SYSTEMS.bd09) as LonLat);
}

const MAX_STEPS = 30;
const CLOSE_ENOUGH_DEG = 1e-8;

/**
 * GCJ-02 or BD-09 back to WGS-84. Neither has a closed-form inverse, so this looks for the
 * WGS-84 point whose forward transform is the given one, by fixed-point steps on gcoord's
 * forward transform (each step shrinks the error about a hundredfold; a few steps reach a
 * millimetre). gcoord's own inverse does the same but without a step limit, and loops forever
 * for points on the edge of its China box (where GCJ-02 jumps): here the steps are capped and
 * the best point seen is kept.
 */
function inverse(point: LonLat, from: Exclude<CrsName, 'wgs84'>): LonLat {
  let guess: LonLat = [point[0], point[1]];
  let best = guess;
  let bestError = Infinity;
  for (let step = 0; step < MAX_STEPS; step++) {
    const image = forward(guess, from);
    const dLon = image[0] - point[0];
    const dLat = image[1] - point[1];
    const error = Math.abs(dLon) + Math.abs(dLat);
    if (error < bestError) {
      best = guess;
      bestError = error;
    }
    if (error < CLOSE_ENOUGH_DEG) break;
    guess = [guess[0] - dLon, guess[1] - dLat];
  }
  return best;
}

/** A point in `crs` brought to WGS-84, the system everything inside is kept in. */
export function toWgs84(lat: number, lon: number, crs: CrsName): { lat: number; lon: number } {
  if (crs === 'wgs84') return { lat, lon };
  const [x, y] = inverse([lon, lat], crs);
  return { lat: y, lon: x };
}

/** A WGS-84 point shown in `crs` (for a Chinese basemap). */
export function fromWgs84(lat: number, lon: number, crs: CrsName): { lat: number; lon: number } {
  if (crs === 'wgs84') return { lat, lon };
  const [x, y] = forward([lon, lat], crs);
  return { lat: y, lon: x };
}
