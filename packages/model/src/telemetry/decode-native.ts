import { BadgeEvent, DeviceStatusPayload, NativePosition } from './schemas.js';
import { checkSchema, mapCheck, positionRecord, reject, timeCheck, type DecodeLimits, type DecodedTelemetry, type DeviceRef } from './decode-shared.js';
import type { NativeChannel } from './topics.js';

/** civicloop/{tenant}/{kind}s/{id}/{channel}: our own strict payloads (unknown fields refused). */
export function decodeNative(channel: NativeChannel, value: unknown, device: DeviceRef, now: number, limits: DecodeLimits): DecodedTelemetry {
  switch (channel) {
    case 'position': {
      const invalid = checkSchema(NativePosition, value);
      if (invalid) return invalid;
      const p = value as NativePosition;
      const refused = timeCheck(p.ts, now, limits) ?? mapCheck(p.lat, p.lon);
      if (refused) return refused;
      return {
        type: 'positions',
        records: [
          positionRecord(device, 'native', now, {
            fixTime: p.ts,
            valid: p.valid ?? true,
            lat: p.lat,
            lon: p.lon,
            altitude: p.altitude,
            speedKmh: p.speed,
            course: p.course,
            accuracy: p.accuracy,
            battery: p.battery,
          }),
        ],
      };
    }
    case 'event': {
      const invalid = checkSchema(BadgeEvent, value);
      if (invalid) return invalid;
      const e = value as BadgeEvent;
      const late = timeCheck(e.ts, now, limits);
      if (late) return late;
      if ((e.lat === undefined) !== (e.lon === undefined)) return reject('schema', 'lat and lon come together or not at all');
      if (e.lat === undefined || e.lon === undefined) return { type: 'event', event: e };
      const off = mapCheck(e.lat, e.lon);
      if (off) return off;
      const alarms = e.type === 'sos' || e.type === 'fall' ? [e.type] : [];
      return {
        type: 'event',
        event: e,
        record: positionRecord(device, 'native', now, { fixTime: e.ts, valid: true, lat: e.lat, lon: e.lon, battery: e.battery, alarms }),
      };
    }
    case 'status': {
      const invalid = checkSchema(DeviceStatusPayload, value);
      if (invalid) return invalid;
      return { type: 'status', state: (value as DeviceStatusPayload).state };
    }
    case 'cmd':
      return reject('not_publishable', 'cmd topics carry commands to devices; devices do not publish there');
  }
}
