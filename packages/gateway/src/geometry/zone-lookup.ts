import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Zone, ZoneGeometry } from '@civicloop/model';

/** Planar area of a geometry in square degrees: only used to order nested zones, smallest first. */
function roughArea(geometry: ZoneGeometry): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let area = 0;
  for (const [outer] of polygons) {
    if (!outer) continue;
    for (let i = 0; i < outer.length - 1; i++) area += outer[i]![0] * outer[i + 1]![1] - outer[i + 1]![0] * outer[i]![1];
  }
  return Math.abs(area) / 2;
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
