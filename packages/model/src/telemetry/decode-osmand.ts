import { ignore, isObject, mapCheck, positionRecord, reject, timeCheck, type DecodeLimits, type DecodedTelemetry, type DeviceRef } from './decode-shared.js';

const KNOT_KMH = 1.852;
const MPS_KMH = 3.6;

/** Ranges of the numbers a phone sends; anything else is refused, naming the field. */
const RANGES: Record<string, [min: number, max: number]> = {
  lat: [-90, 90],
  lon: [-180, 180],
  speed: [0, 1000],
  bearing: [0, 360],
  altitude: [-1000, 10000],
  accuracy: [0, 100_000],
  batt: [0, 100],
};

/** Alarm names as Traccar Client and OsmAnd-style trackers send them, mapped to ours. */
const ALARMS: Record<string, string> = { sos: 'sos', fall: 'fall', falldown: 'fall', lowbattery: 'low_battery', low_battery: 'low_battery' };

export function alarmName(raw: string): string | undefined {
  const key = raw.trim().toLowerCase();
  if (ALARMS[key]) return ALARMS[key];
  const snake = raw
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  return /^[a-z][a-z0-9_]{0,39}$/.test(snake) ? snake : undefined;
}

/** epoch seconds, epoch milliseconds or ISO 8601, as the OsmAnd protocol allows. */
function timeOf(raw: string | number | undefined, now: number): number | undefined {
  if (raw === undefined || raw === '') return now;
  const text = String(raw).trim();
  if (/^\d{1,16}(\.\d+)?$/.test(text)) {
    const n = Number(text);
    // Traccar's rule: below 2^31 it is seconds.
    return Math.round(n < 2 ** 31 ? n * 1000 : n);
  }
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function numberOf(fields: Record<string, unknown>, name: string, range: [number, number]): number | undefined | { error: string } {
  const raw = fields[name];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n)) return { error: `${name} is not a number` };
  if (n < range[0] || n > range[1]) return { error: `${name} ${n} is outside ${range[0]}..${range[1]}` };
  return n;
}

/**
 * The OsmAnd / Traccar Client HTTP protocol: one position as query or form parameters (`lat`,
 * `lon` or `location=lat,lon`, `timestamp`, `speed` in knots, `bearing`/`heading`, `altitude`,
 * `accuracy`, `batt`, `valid`, `alarm`), or Traccar Client's JSON (`{location: {timestamp,
 * coords: {latitude, longitude, speed m/s, heading, accuracy, altitude}, battery: {level 0-1},
 * alarm}}`). A message without a position is acknowledged and set aside. Never throws.
 */
export function decodeOsmAnd(input: Record<string, unknown>, device: DeviceRef, now: number, limits: DecodeLimits): DecodedTelemetry {
  const json = isObject(input.location);
  const fields = json ? fromJson(input.location as Record<string, unknown>) : { ...input };
  if (typeof fields === 'string') return reject('schema', fields);
  if (typeof fields.location === 'string' && fields.lat === undefined) {
    const [lat, lon] = fields.location.split(',');
    fields.lat = lat;
    fields.lon = lon;
  }
  const values: Record<string, number | undefined> = {};
  for (const [name, range] of Object.entries(RANGES)) {
    const alias = name === 'bearing' && fields.bearing === undefined ? 'heading' : name;
    const value = numberOf(fields, alias, range);
    if (typeof value === 'object') return reject(value.error.includes('outside') ? 'out_of_range' : 'schema', value.error);
    values[name] = value;
  }
  const { lat, lon } = values;
  if (lat === undefined || lon === undefined) return ignore('no_position', 'no lat and lon: nothing to place');
  const fixTime = timeOf(fields.timestamp as string | number | undefined, now);
  if (fixTime === undefined) return reject('schema', 'timestamp is not epoch seconds, epoch milliseconds or ISO 8601');
  const refused = timeCheck(fixTime, now, limits) ?? mapCheck(lat, lon);
  if (refused) return refused;
  const alarm = typeof fields.alarm === 'string' ? alarmName(fields.alarm) : undefined;
  const speedKmh = values.speed === undefined ? undefined : json ? values.speed * MPS_KMH : values.speed * KNOT_KMH;
  const valid = fields.valid === undefined || fields.valid === true || fields.valid === 'true' || fields.valid === '1';
  return {
    type: 'positions',
    records: [
      positionRecord(device, 'osmand', now, {
        fixTime,
        valid,
        lat,
        lon,
        altitude: values.altitude,
        speedKmh: speedKmh === undefined ? undefined : Math.round(speedKmh * 100) / 100,
        course: values.bearing,
        accuracy: values.accuracy,
        battery: values.batt,
        alarms: alarm ? [alarm] : [],
      }),
    ],
  };
}

/** Traccar Client's JSON location, as the same named fields (its speed is in m/s). */
function fromJson(location: Record<string, unknown>): Record<string, unknown> | string {
  const coords = location.coords;
  if (coords !== undefined && !isObject(coords)) return 'location.coords is an object';
  const battery = isObject(location.battery) ? location.battery : undefined;
  const level = typeof battery?.level === 'number' && battery.level >= 0 ? Math.round(battery.level * 100) : undefined;
  const speed = typeof coords?.speed === 'number' && coords.speed >= 0 ? coords.speed : undefined;
  const heading = typeof coords?.heading === 'number' && coords.heading >= 0 ? coords.heading : undefined;
  return {
    lat: coords?.latitude,
    lon: coords?.longitude,
    timestamp: location.timestamp,
    speed,
    bearing: heading,
    altitude: coords?.altitude,
    accuracy: coords?.accuracy,
    batt: level,
    alarm: location.alarm,
  };
}
