import type { Point } from './district.js';

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

export function distance(a: Point, b: Point): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The point `meters` from `from` towards `to` (or `to` itself when closer). */
export function moveToward(from: Point, to: Point, meters: number): Point {
  const total = distance(from, to);
  if (total <= meters || total === 0) return { ...to };
  const f = meters / total;
  return { lat: from.lat + (to.lat - from.lat) * f, lon: from.lon + (to.lon - from.lon) * f };
}

export function bearing(from: Point, to: Point): number {
  const y = Math.sin(rad(to.lon - from.lon)) * Math.cos(rad(to.lat));
  const x = Math.cos(rad(from.lat)) * Math.sin(rad(to.lat)) - Math.sin(rad(from.lat)) * Math.cos(rad(to.lat)) * Math.cos(rad(to.lon - from.lon));
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
}

/** A point within `meters` of `centre`, from a seeded random source. */
export function around(centre: Point, meters: number, random: () => number): Point {
  const r = meters * Math.sqrt(random());
  const theta = 2 * Math.PI * random();
  return { lat: centre.lat + (r * Math.cos(theta)) / 111_320, lon: centre.lon + (r * Math.sin(theta)) / (111_320 * Math.cos(rad(centre.lat))) };
}

export { seededRandom } from '@civicloop/model';
