import type { CrsName } from '@civicloop/model';
import { fromWgs84, toWgs84 } from '@civicloop/model/crs';

export { fromWgs84, toWgs84, type LonLat } from '@civicloop/model/crs';

type Ring = [number, number][];
type ZoneShape = { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] };

function mapShape<G extends ZoneShape>(geometry: G, convert: (lat: number, lon: number) => { lat: number; lon: number }): G {
  const ring = (r: Ring): Ring =>
    r.map(([lon, lat]) => {
      const p = convert(lat, lon);
      return [p.lon, p.lat];
    });
  return (
    geometry.type === 'Polygon'
      ? { type: 'Polygon', coordinates: geometry.coordinates.map(ring) }
      : { type: 'MultiPolygon', coordinates: geometry.coordinates.map((polygon) => polygon.map(ring)) }
  ) as G;
}

/** A zone outline drawn in `crs` brought to WGS-84, vertex by vertex (a ring stays closed: equal points map to equal points). */
export function shapeToWgs84<G extends ZoneShape>(geometry: G, crs: CrsName): G {
  return crs === 'wgs84' ? geometry : mapShape(geometry, (lat, lon) => toWgs84(lat, lon, crs));
}

/** A stored outline as `crs` draws it. */
export function shapeFromWgs84<G extends ZoneShape>(geometry: G, crs: CrsName): G {
  return crs === 'wgs84' ? geometry : mapShape(geometry, (lat, lon) => fromWgs84(lat, lon, crs));
}
