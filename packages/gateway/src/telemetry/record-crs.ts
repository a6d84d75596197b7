import type { CrsName, PositionRecord } from '@civicloop/model';
import { toWgs84 } from '../geometry/crs.js';

/** A record from a device that reports in GCJ-02 or BD-09, brought to WGS-84, the point as sent kept beside it. */
export function toWgs84Record(record: PositionRecord, crs: CrsName): PositionRecord {
  if (crs === 'wgs84') return record;
  const { lat, lon } = toWgs84(record.lat, record.lon, crs);
  return { ...record, lat, lon, received: { lat: record.lat, lon: record.lon, crs } };
}
