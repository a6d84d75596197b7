import type { ZoneGeometry } from '@civicloop/model';

/** One shape read from an uploaded file, with the id and name its properties give, if any. */
export interface ZoneShapeFromFile {
  geometry: ZoneGeometry;
  id?: string;
  name?: string;
}

/** Why a file cannot become zones, in words for the admin. */
export class ZoneFileError extends Error {
  override readonly name = 'ZoneFileError';
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function geometryOf(value: unknown, where: string): ZoneGeometry {
  if (!isObject(value)) throw new ZoneFileError(`${where} has no geometry.`);
  if (value.type !== 'Polygon' && value.type !== 'MultiPolygon')
    throw new ZoneFileError(`${where} is a ${String(value.type)}; a zone needs a Polygon or MultiPolygon.`);
  if (!Array.isArray(value.coordinates)) throw new ZoneFileError(`${where} has no coordinates.`);
  // The gateway checks every ring and position; here only the shape of the document.
  return { type: value.type, coordinates: value.coordinates } as ZoneGeometry;
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : typeof value === 'number' ? String(value) : undefined);

/**
 * The zones in a GeoJSON document (RFC 7946): a FeatureCollection (one zone per feature), a
 * Feature or a bare Polygon/MultiPolygon. A feature's `id` (or `properties.id`) and
 * `properties.name` name its zone. Coordinates are [longitude, latitude], in the system the admin says.
 */
export function zonesFromGeoJson(source: string): ZoneShapeFromFile[] {
  let document: unknown;
  try {
    document = JSON.parse(source);
  } catch {
    throw new ZoneFileError('The file is not JSON; export the zones as GeoJSON.');
  }
  if (!isObject(document)) throw new ZoneFileError('The file is not a GeoJSON object.');
  const feature = (value: unknown, where: string): ZoneShapeFromFile => {
    if (!isObject(value) || value.type !== 'Feature') throw new ZoneFileError(`${where} is not a GeoJSON Feature.`);
    const properties = isObject(value.properties) ? value.properties : {};
    const id = text(properties.id) ?? text(value.id);
    const name = text(properties.name) ?? text(properties.名称) ?? text(properties.NAME);
    return { geometry: geometryOf(value.geometry, where), ...(id ? { id } : {}), ...(name ? { name } : {}) };
  };
  if (document.type === 'FeatureCollection') {
    if (!Array.isArray(document.features) || document.features.length === 0) throw new ZoneFileError('The FeatureCollection has no features.');
    if (document.features.length > 200) throw new ZoneFileError(`The file has ${document.features.length} features; upload at most 200 at a time.`);
    return document.features.map((f, index) => feature(f, `Feature ${index + 1}`));
  }
  if (document.type === 'Feature') return [feature(document, 'The feature')];
  return [{ geometry: geometryOf(document, 'The file') }];
}
