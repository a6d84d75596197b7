import { OwnTracksLocation, OwnTracksLwt, OwnTracksTransition } from './formats.js';
import {
  checkSchema,
  ignore,
  isObject,
  mapCheck,
  parseJson,
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
 * Opens the `data` of an OwnTracks `encrypted` message with the device's key (libsodium's
 * secretbox, as the apps seal it): the JSON text inside, or undefined when it does not open.
 * The gateway supplies it; the model holds no keys and does no cryptography.
 */
export type OpenOwnTracks = (data: string) => string | undefined;

/**
 * owntracks/{user}/{device}[/event], or a POST in the apps' HTTP mode: the OwnTracks booklet's
 * JSON (docs/tech/json.md). Unknown fields are tolerated, as the booklet asks. Of its message
 * types CivicLoop uses location, lwt and transition, and opens `encrypted` ones with `open` when
 * the device has a key; the others (waypoint, card, status, steps...) are set aside.
 */
export function decodeOwnTracks(value: unknown, device: DeviceRef, now: number, limits: DecodeLimits, open?: OpenOwnTracks): DecodedTelemetry {
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
      return decodeEncrypted(value, device, now, limits, open);
    default:
      return ignore('unused_type', `OwnTracks _type ${value._type.slice(0, 40)} is not used here`);
  }
}

/** An `encrypted` message: opened with the device's key, then decoded as the message inside (which may not be encrypted again). */
function decodeEncrypted(value: Record<string, unknown>, device: DeviceRef, now: number, limits: DecodeLimits, open?: OpenOwnTracks): DecodedTelemetry {
  if (!open)
    return reject(
      'no_key',
      "the payload is encrypted (the app's encryption key is set) and the device has no ownTracksKey; set it with PATCH /v1/devices/{id}",
    );
  if (typeof value.data !== 'string') return reject('schema', 'an encrypted OwnTracks message carries its data as a base64 string');
  const clear = open(value.data);
  if (clear === undefined) return reject('undecryptable', "the payload does not open with the device's ownTracksKey: the app's encryption key differs");
  const parsed = parseJson(clear, limits);
  if (!parsed.ok) return parsed.result;
  if (isObject(parsed.value) && parsed.value._type === 'encrypted') return reject('schema', 'an encrypted OwnTracks message holds another encrypted one');
  return decodeOwnTracks(parsed.value, device, now, limits);
}
