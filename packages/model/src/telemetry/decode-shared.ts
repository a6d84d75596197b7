import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { MAX_LATITUDE } from '../schemas/common.js';
import type { BadgeEvent, DeviceKind, PositionRecord, PositionSource } from './schemas.js';

/**
 * Why a message was refused: it is malformed, its values are impossible, or (OwnTracks payload
 * encryption) it cannot be opened: `no_key` when the device has no key, `undecryptable` when its
 * key does not open it. Each is counted.
 */
export type TelemetryRejection =
  | 'too_large'
  | 'not_json'
  | 'schema'
  | 'out_of_range'
  | 'future_fix'
  | 'stale_fix'
  | 'not_publishable'
  | 'no_key'
  | 'undecryptable';

/**
 * Why a well-formed message was acknowledged and set aside: the format allows it, CivicLoop has
 * no use for it (an OwnTracks waypoint, a ThingsBoard reading without a position...), or it says
 * nothing to act on (a driver's IC card the terminal could not read). Counted apart from
 * refusals, since nothing is wrong with the message.
 */
export type TelemetryIgnored = 'unused_topic' | 'unused_type' | 'no_position' | 'card_unread';

export type DecodedTelemetry =
  | { type: 'positions'; records: PositionRecord[] }
  | { type: 'event'; event: BadgeEvent; record?: PositionRecord }
  | { type: 'status'; state: 'online' | 'offline' }
  | { type: 'ignored'; reason: TelemetryIgnored; detail: string }
  | { type: 'rejected'; reason: TelemetryRejection; detail: string };

export interface DecodeLimits {
  maxPayloadBytes: number;
  /** A fix may be at most this far ahead of the gateway clock (device clocks drift). */
  maxFutureMs: number;
  /** A fix older than this is refused (a stuck buffer replaying months-old data). */
  maxAgeMs: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPayloadBytes: 16 * 1024, maxFutureMs: 5 * 60_000, maxAgeMs: 30 * 86_400_000 };

export interface DeviceRef {
  id: string;
  kind: DeviceKind;
}

export const reject = (reason: TelemetryRejection, detail: string): DecodedTelemetry => ({ type: 'rejected', reason, detail });
export const ignore = (reason: TelemetryIgnored, detail: string): DecodedTelemetry => ({ type: 'ignored', reason, detail });

// Compiled on first use: the server validates fast, and browsers that never decode telemetry
// never run the compiler (which would need eval under a strict CSP).
const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let found = compiled.get(schema);
  if (!found) {
    found = TypeCompiler.Compile(schema);
    compiled.set(schema, found);
  }
  return found;
}

/** The value matches the schema, or the refusal naming the first field that does not. */
export function checkSchema(schema: TSchema, value: unknown): DecodedTelemetry | undefined {
  const check = checker(schema);
  if (check.Check(value)) return undefined;
  const error = check.Errors(value).First();
  return reject('schema', error ? `${error.path || '/'} ${error.message}` : 'does not match the schema');
}

/** A time for a message: ISO when a Date can hold it, the raw number otherwise. */
function describeTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

/** Refuses a fix time outside [now - maxAge, now + maxFuture]; every number is safe here. */
export function timeCheck(fixTime: number, now: number, limits: DecodeLimits): DecodedTelemetry | undefined {
  if (!Number.isSafeInteger(fixTime)) return reject('schema', `fix time ${fixTime} is not a whole number of milliseconds`);
  if (fixTime > now + limits.maxFutureMs) return reject('future_fix', `fix time ${describeTime(fixTime)} is in the future`);
  if (fixTime < now - limits.maxAgeMs) return reject('stale_fix', `fix time ${describeTime(fixTime)} is older than allowed`);
  return undefined;
}

/**
 * Refuses a point that cannot go on the live map: Redis GEO (and every web map) covers
 * latitudes up to ±85.05112878°, and no city lies beyond.
 */
export function mapCheck(lat: number, lon: number): DecodedTelemetry | undefined {
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > MAX_LATITUDE || Math.abs(lon) > 180) {
    return reject('out_of_range', `position ${lat},${lon} is outside latitude ±${MAX_LATITUDE} / longitude ±180`);
  }
  return undefined;
}

export type RecordFields = Omit<PositionRecord, 'deviceId' | 'kind' | 'serverTime' | 'source' | 'key' | 'alarms' | 'deviceTime'> & {
  deviceTime?: number;
  alarms?: string[];
};

export function positionRecord(device: DeviceRef, source: PositionSource, now: number, fields: RecordFields): PositionRecord {
  const out: PositionRecord = {
    deviceId: device.id,
    kind: device.kind,
    fixTime: fields.fixTime,
    deviceTime: fields.deviceTime ?? fields.fixTime,
    serverTime: now,
    valid: fields.valid,
    lat: fields.lat,
    lon: fields.lon,
    alarms: fields.alarms ?? [],
    source,
    key: `${device.id}:${fields.fixTime}`,
  };
  if (fields.altitude !== undefined) out.altitude = fields.altitude;
  if (fields.speedKmh !== undefined) out.speedKmh = fields.speedKmh;
  if (fields.course !== undefined) out.course = fields.course;
  if (fields.accuracy !== undefined) out.accuracy = fields.accuracy;
  if (fields.battery !== undefined) out.battery = fields.battery;
  return out;
}

const utf8 = new TextDecoder();

export function parseJson(payload: Uint8Array | string, limits: DecodeLimits): { ok: true; value: unknown } | { ok: false; result: DecodedTelemetry } {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > limits.maxPayloadBytes) return { ok: false, result: reject('too_large', `payload of ${size} bytes exceeds ${limits.maxPayloadBytes}`) };
  try {
    // Invalid UTF-8 decodes to replacement characters rather than throwing.
    return { ok: true, value: JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload)) };
  } catch {
    return { ok: false, result: reject('not_json', 'payload is not JSON') };
  }
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
