import { isCrsName, type CrsName } from '@civicloop/model/report';

export interface Fix {
  lat: number;
  lon: number;
  /** metres */
  accuracy: number;
  /** The system lat/lon are in: a browser's Geolocation API always gives WGS-84. */
  crs: 'wgs84';
}

/** A configured point; without `crs` the gateway applies the tenant's default system. */
export interface ConfiguredPoint {
  lat: number;
  lon: number;
  crs?: CrsName;
}

/** The device's position, or a rejection (permission denied, unavailable, timed out). */
export function locate(timeoutMs = 15_000): Promise<Fix> {
  return new Promise((resolve, reject) => {
    if (!('geolocation' in navigator)) return reject(new Error('no geolocation'));
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => resolve({ lat: coords.latitude, lon: coords.longitude, accuracy: Math.round(coords.accuracy), crs: 'wgs84' }),
      reject,
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
    );
  });
}

/**
 * "23.13,113.32" or "23.13,113.32,gcj02" (the `default-location` attribute: an estate's point as
 * read off whichever map) as a point, or undefined when malformed.
 */
/**
 * A place a printed QR entry code put in the page's address (`cl-place=lat,lon[,crs]` and
 * `cl-place-name`): the report starts there, and the device is not asked where it is.
 */
export function placeFromPage(search: string): (ConfiguredPoint & { name: string }) | undefined {
  const params = new URLSearchParams(search);
  const point = parsePoint(params.get('cl-place'));
  const name = (params.get('cl-place-name') ?? '').trim().slice(0, 300);
  return point && name ? { ...point, name } : undefined;
}

export function parsePoint(text: string | null): ConfiguredPoint | undefined {
  const raw = (text ?? '').split(',').map((part) => part.trim());
  const crs = raw.length === 3 ? raw.pop()!.toLowerCase() : undefined;
  if (crs !== undefined && !isCrsName(crs)) return undefined;
  const parts = raw.map(Number);
  const [lat, lon] = parts;
  if (parts.length !== 2 || lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat, lon, ...(crs ? { crs } : {}) };
}
