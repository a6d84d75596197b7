import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Zone, ZoneGeometry } from '@civicloop/model';

/** Planar area enclosed by a ring in square degrees, whichever way it winds. */
function ringArea(ring: readonly (readonly number[])[]): number {
  let twice = 0;
  for (let i = 0; i < ring.length - 1; i++) twice += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
  return Math.abs(twice) / 2;
}

/**
 * Planar area of a geometry in square degrees: only used to order nested zones, smallest first.
 * Each ring counts by its own size, holes taken out: GeoJSON from other tools winds rings either
 * way (RFC 7946 only recommends an order), and summing signed areas across the parts of a
 * MultiPolygon wound both ways would let them cancel, making a whole district look smaller than
 * a village inside it.
 */
function roughArea(geometry: ZoneGeometry): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let area = 0;
  for (const [outer, ...holes] of polygons) {
    if (!outer) continue;
    area += ringArea(outer) - holes.reduce((sum, hole) => sum + ringArea(hole), 0);
  }
  return area;
}

/** Those of the zones that contain a WGS-84 point, the smallest (most specific) first. */
export function zonesContaining(zones: readonly Zone[], at: { lat: number; lon: number }): Zone[] {
  const point: [number, number] = [at.lon, at.lat];
  return zones
    .filter((zone) => booleanPointInPolygon(point, zone.geometry))
    .map((zone) => ({ zone, area: roughArea(zone.geometry) }))
    .sort((a, b) => a.area - b.area)
    .map(({ zone }) => zone);
}
