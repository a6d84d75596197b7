import { Type } from '@sinclair/typebox';
import { CRS_NAMES, StringEnum, type CrsName } from '@civicloop/model';
import { fromWgs84 } from '../geometry/crs.js';

/** `?crs=` on reads: the system to give points in, for a basemap that draws in it. */
export const CrsQuery = Type.Object({
  crs: Type.Optional(StringEnum(CRS_NAMES, { description: 'give points in this coordinate system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu); wgs84 when absent' })),
});

/** A stored (WGS-84) point as `crs` draws it. */
export function pointIn(point: { lat: number; lon: number }, crs: CrsName): { lat: number; lon: number } {
  return fromWgs84(point.lat, point.lon, crs);
}
