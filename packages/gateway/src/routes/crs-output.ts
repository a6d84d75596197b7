import { Type } from '@sinclair/typebox';
import { CRS_NAMES, StringEnum, type CrsName, type DeviceAlert, type Location } from '@civicloop/model';
import { fromWgs84 } from '../geometry/crs.js';

/** `?crs=` on reads: the system to give points in, for a basemap that draws in it. */
export const CrsQuery = Type.Object({
  crs: Type.Optional(
    StringEnum(CRS_NAMES, { description: 'give points in this coordinate system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu); wgs84 when absent' }),
  ),
});

/** A ticket with its location as `crs` draws it (and saying so); as stored when WGS-84 is asked for. */
export function ticketIn<T extends { location: Location }>(ticket: T, crs: CrsName | undefined): T {
  if (!crs || crs === 'wgs84') return ticket;
  return { ...ticket, location: { ...ticket.location, ...fromWgs84(ticket.location.lat, ticket.location.lon, crs), crs } };
}

/** A GeoJSON point feature ([lon, lat]) as `crs` draws it. */
export function featureIn<F extends { geometry: { type: 'Point'; coordinates: number[] } }>(feature: F, crs: CrsName | undefined): F {
  if (!crs || crs === 'wgs84') return feature;
  const [lon, lat, ...rest] = feature.geometry.coordinates as [number, number, ...number[]];
  const p = fromWgs84(lat, lon, crs);
  return { ...feature, geometry: { ...feature.geometry, coordinates: [p.lon, p.lat, ...rest] } };
}

/** A stored (WGS-84) point as `crs` draws it. */
export function pointIn(point: { lat: number; lon: number }, crs: CrsName): { lat: number; lon: number } {
  return fromWgs84(point.lat, point.lon, crs);
}

/** A device alert with the place it was raised at as `crs` draws it; as stored (WGS-84) when that is asked for, or it has no place. */
export function alertIn(alert: DeviceAlert, crs: CrsName | undefined): DeviceAlert {
  if (!crs || crs === 'wgs84' || alert.lat === undefined || alert.lon === undefined) return alert;
  return { ...alert, ...pointIn({ lat: alert.lat, lon: alert.lon }, crs) };
}
