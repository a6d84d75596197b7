import type { CrsName, ZoneGeometry, ZoneGeometryInput } from '@civicloop/model';
import { fromWgs84, toWgs84 } from '@civicloop/model/crs';

export { fromWgs84, toWgs84, type LonLat } from '@civicloop/model/crs';

type Position = [number, number] | [number, number, number];

function mapShape(geometry: ZoneGeometryInput, convert: (lat: number, lon: number) => { lat: number; lon: number }): ZoneGeometry {
  const ring = (r: Position[]): [number, number][] =>
    r.map(([lon, lat]) => {
      const p = convert(lat, lon);
      return [p.lon, p.lat];
    });
  return geometry.type === 'Polygon'
    ? { type: 'Polygon', coordinates: geometry.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: geometry.coordinates.map((polygon) => polygon.map(ring)) };
}

const asIs = (lat: number, lon: number) => ({ lat, lon });

/**
 * A zone outline as sent, drawn in `crs`, brought to WGS-84 vertex by vertex (a ring stays closed:
 * equal points map to equal points), without the altitudes GeoJSON lets positions carry.
 */
export function shapeToWgs84(geometry: ZoneGeometryInput, crs: CrsName): ZoneGeometry {
  return mapShape(geometry, crs === 'wgs84' ? asIs : (lat, lon) => toWgs84(lat, lon, crs));
}

/** A stored outline as `crs` draws it. */
export function shapeFromWgs84(geometry: ZoneGeometry, crs: CrsName): ZoneGeometry {
  return crs === 'wgs84' ? geometry : mapShape(geometry, (lat, lon) => fromWgs84(lat, lon, crs));
}
