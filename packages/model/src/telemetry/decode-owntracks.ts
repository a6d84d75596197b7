import { OwnTracksLocation, OwnTracksLwt, OwnTracksTransition } from './formats.js';
import {
  checkSchema,
  ignore,
  isObject,
  mapCheck,
  positionRecord,
  reject,
  timeCheck,
  type DecodeLimits,
  type DecodedTelemetry,
  type DeviceRef,
} from './decode-shared.js';

/** OwnTracks sends -1 (and iOS sometimes nothing) when it cannot read the battery. */
const battery = (batt: number | undefined) => (batt === undefined || batt < 0 ? undefined : batt);

/**
 * owntracks/{user}/{device}[/event]: the OwnTracks booklet's JSON (docs/tech/json.md). Unknown
 * fields are tolerated, as the booklet asks. Of its message types CivicLoop uses location, lwt
 * and transition; the others (waypoint, card, status, steps, encrypted...) are set aside.
 */
export function decodeOwnTracks(value: unknown, device: DeviceRef, now: number, limits: DecodeLimits): DecodedTelemetry {
  if (!isObject(value) || typeof value._type !== 'string') return reject('schema', 'an OwnTracks message is a JSON object with a _type');
  switch (value._type) {
    case 'location': {
      const invalid = checkSchema(OwnTracksLocation, value);
      if (invalid) return invalid;
      const l = value as OwnTracksLocation;
      const fixTime = l.tst * 1000;
      const refused = timeCheck(fixTime, now, limits) ?? mapCheck(l.lat, l.lon);
      if (refused) return refused;
      const deviceTime = l.created_at !== undefined && Number.isSafeInteger(l.created_at * 1000) ? l.created_at * 1000 : fixTime;
      return {
        type: 'positions',
        records: [
          positionRecord(device, 'owntracks', now, {
            fixTime,
            deviceTime,
            valid: true,
            lat: l.lat,
            lon: l.lon,
            accuracy: l.acc,
            altitude: l.alt,
            speedKmh: l.vel,
            course: l.cog,
            battery: battery(l.batt),
          }),
        ],
      };
    }
    case 'transition': {
      const invalid = checkSchema(OwnTracksTransition, value);
      if (invalid) return invalid;
      const t = value as OwnTracksTransition;
      const fixTime = t.tst * 1000;
      const late = timeCheck(fixTime, now, limits);
      if (late) return late;
      // The booklet makes lat/lon optional: without them there is no position to keep.
      if (t.lat === undefined || t.lon === undefined) return ignore('no_position', `transition ${t.event} without lat/lon`);
      const off = mapCheck(t.lat, t.lon);
      if (off) return off;
      return {
        type: 'positions',
        records: [
          positionRecord(device, 'owntracks', now, {
            fixTime,
            valid: true,
            lat: t.lat,
            lon: t.lon,
            accuracy: t.acc,
            alarms: [`${t.event}${t.desc ? `:${t.desc}` : ''}`],
          }),
        ],
      };
    }
    case 'lwt': {
      const invalid = checkSchema(OwnTracksLwt, value);
      if (invalid) return invalid;
      return { type: 'status', state: 'offline' };
    }
    case 'encrypted':
      return ignore('encrypted', 'OwnTracks payload encryption is not supported; turn encryption off in the app');
    default:
      return ignore('unused_type', `OwnTracks _type ${value._type.slice(0, 40)} is not used here`);
  }
}
