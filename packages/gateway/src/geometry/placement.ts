import type { CrsName, Principal, ReceivedPoint, TenantPolicy } from '@civicloop/model';
import { toWgs84 } from './crs.js';

/**
 * The system a point is in when it does not say: the caller's API key's default, else the
 * tenant's policy.defaultCrs, else WGS-84.
 */
export function defaultCrsFor(principal: Pick<Principal, 'crs'> | undefined, policy: Pick<TenantPolicy, 'defaultCrs'>): CrsName {
  return principal?.crs ?? policy.defaultCrs ?? 'wgs84';
}

/**
 * A received location brought to WGS-84, the system everything inside is kept in (routing,
 * duplicates, black spots, arrival, nearest worker), and the point as received when it was in
 * another system: what the reporter's map showed.
 */
export function placeLocation<L extends { lat: number; lon: number; crs?: CrsName | undefined }>(
  location: L,
  fallback: CrsName,
): { location: Omit<L, 'crs'>; received?: ReceivedPoint } {
  const { crs: given, ...rest } = location;
  const crs = given ?? fallback;
  if (crs === 'wgs84') return { location: rest };
  const { lat, lon } = toWgs84(location.lat, location.lon, crs);
  return { location: { ...rest, lat, lon }, received: { lat: location.lat, lon: location.lon, crs } };
}
