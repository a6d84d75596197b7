import { ThingsBoardTimed } from './formats.js';
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
import type { PositionRecord } from './schemas.js';

const MAX_ENTRIES = 500;

/** The position keys agreed for ThingsBoard-style firmware, and the range each may take. */
const NUMERIC: Record<string, [min: number, max: number]> = {
  latitude: [-90, 90],
  longitude: [-180, 180],
  speed: [0, 1000],
  heading: [0, 360],
  accuracy: [0, 100_000],
  batteryLevel: [0, 100],
};

/**
 * v1/devices/me/telemetry, as ThingsBoard's MQTT device API defines it: `{k: v}` and
 * `[{k: v}, {k: v}]` (one reading at server time), `{ts, values}`, or an array of those. Values
 * may be any JSON (strings, booleans, numbers, objects, arrays); keys CivicLoop does not use
 * are ignored, the position keys must be numbers in range.
 */
export function decodeThingsBoard(value: unknown, device: DeviceRef, now: number, limits: DecodeLimits): DecodedTelemetry {
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0 || entries.length > MAX_ENTRIES) return reject('schema', `telemetry must hold 1 to ${MAX_ENTRIES} entries`);
  // Readings by time: entries without ts share the server time, entries with the same ts merge.
  const readings = new Map<number, Record<string, unknown>>();
  for (const entry of entries) {
    if (!isObject(entry)) return reject('schema', 'each telemetry entry is a JSON object');
    let ts = now;
    let values: Record<string, unknown> = entry;
    if ('ts' in entry) {
      const invalid = checkSchema(ThingsBoardTimed, entry);
      if (invalid) return invalid;
      ts = entry.ts as number;
      values = entry.values as Record<string, unknown>;
    }
    readings.set(ts, { ...readings.get(ts), ...values });
  }
  const records: PositionRecord[] = [];
  for (const [ts, values] of readings) {
    const numbers: Record<string, number | undefined> = {};
    for (const [key, [min, max]] of Object.entries(NUMERIC)) {
      const n = values[key];
      if (n === undefined || n === null) continue;
      if (typeof n !== 'number' || !Number.isFinite(n)) return reject('schema', `${key} must be a number`);
      if (n < min || n > max) return reject('out_of_range', `${key} ${n} is outside ${min}..${max}`);
      numbers[key] = n;
    }
    const { latitude: lat, longitude: lon } = numbers;
    if (lat === undefined && lon === undefined) continue;
    if (lat === undefined || lon === undefined) return reject('schema', 'latitude and longitude come together or not at all');
    const refused = timeCheck(ts, now, limits) ?? mapCheck(lat, lon);
    if (refused) return refused;
    records.push(
      positionRecord(device, 'thingsboard', now, {
        fixTime: ts,
        valid: true,
        lat,
        lon,
        speedKmh: numbers.speed,
        course: numbers.heading,
        accuracy: numbers.accuracy,
        battery: numbers.batteryLevel,
      }),
    );
  }
  if (records.length === 0) return ignore('no_position', 'no reading carries latitude and longitude');
  return { type: 'positions', records };
}
