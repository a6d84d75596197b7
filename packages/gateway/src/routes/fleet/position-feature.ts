import { Type } from '@sinclair/typebox';
import type { CrsName, Device, PositionRecord } from '@civicloop/model';
import { pointIn } from '../../geometry/crs-output.js';

export const GeoJson = Type.Record(Type.String(), Type.Unknown(), { description: 'a GeoJSON object (RFC 7946)' });
export const fleetTags = ['fleet'];

/** A position as a GeoJSON point feature, in `crs` (WGS-84 when absent). */
export function positionFeature(record: PositionRecord, device: Device | undefined, online: boolean, crs: CrsName | undefined) {
  const point = crs ? pointIn(record, crs) : record;
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [point.lon, point.lat] },
    properties: {
      deviceId: record.deviceId,
      kind: record.kind,
      name: device?.name ?? record.deviceId,
      staffId: device?.staffId ?? null,
      unitId: device?.unitId ?? null,
      plate: device?.plate ?? null,
      fixTime: new Date(record.fixTime).toISOString(),
      speedKmh: record.speedKmh ?? null,
      course: record.course ?? null,
      battery: record.battery ?? null,
      online,
    },
  };
}
