import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { OwnTracksLocation, OwnTracksLwt, OwnTracksTransition, ThingsBoardEntry, ThingsBoardValues } from './formats.js';
import { BadgeEvent, DeviceStatusPayload, NativePosition, type DeviceKind, type PositionRecord, type PositionSource } from './schemas.js';
import type { ParsedTopic } from './topics.js';

/** Why a message was refused; each is counted by the gateway. */
export type TelemetryRejection =
  | 'too_large'
  | 'not_json'
  | 'schema'
  | 'future_fix'
  | 'stale_fix'
  | 'no_position'
  | 'not_publishable';

export type DecodedTelemetry =
  | { type: 'positions'; records: PositionRecord[] }
  | { type: 'event'; event: BadgeEvent; record?: PositionRecord }
  | { type: 'status'; state: 'online' | 'offline' }
  | { type: 'rejected'; reason: TelemetryRejection; detail: string };

export interface DecodeLimits {
  maxPayloadBytes: number;
  /** A fix may be at most this far ahead of the gateway clock (device clocks drift). */
  maxFutureMs: number;
  /** A fix older than this is refused (a stuck buffer replaying months-old data). */
  maxAgeMs: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPayloadBytes: 16 * 1024, maxFutureMs: 5 * 60_000, maxAgeMs: 30 * 86_400_000 };

// Compiled on first use: the server validates fast, and browsers that never decode telemetry
// never run the compiler (which would need eval under a strict CSP).
const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function check<T extends TSchema>(schema: T, value: unknown): boolean {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  return checker.Check(value);
}
function firstError(schema: TSchema, value: unknown): string {
  const error = compiled.get(schema)?.Errors(value).First();
  return error ? `${error.path || '/'} ${error.message}` : 'does not match the schema';
}

const utf8 = new TextDecoder();

const reject = (reason: TelemetryRejection, detail: string): DecodedTelemetry => ({ type: 'rejected', reason, detail });

interface DeviceRef {
  id: string;
  kind: DeviceKind;
}

function timeCheck(fixTime: number, now: number, limits: DecodeLimits): DecodedTelemetry | undefined {
  if (fixTime > now + limits.maxFutureMs) return reject('future_fix', `fix time ${new Date(fixTime).toISOString()} is in the future`);
  if (fixTime < now - limits.maxAgeMs) return reject('stale_fix', `fix time ${new Date(fixTime).toISOString()} is older than allowed`);
  return undefined;
}

function record(device: DeviceRef, source: PositionSource, now: number, fields: Omit<PositionRecord, 'deviceId' | 'kind' | 'serverTime' | 'source' | 'key' | 'alarms' | 'deviceTime'> & { deviceTime?: number; alarms?: string[] }): PositionRecord {
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

function parseJson(payload: Uint8Array | string, limits: DecodeLimits): { ok: true; value: unknown } | { ok: false; result: DecodedTelemetry } {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > limits.maxPayloadBytes) return { ok: false, result: reject('too_large', `payload of ${size} bytes exceeds ${limits.maxPayloadBytes}`) };
  const text = typeof payload === 'string' ? payload : utf8.decode(payload);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, result: reject('not_json', 'payload is not JSON') };
  }
}

/**
 * Turns one MQTT message from a device into what the gateway stores: position records (every
 * format mapped to one), a badge event, or a status, or says why it is refused. Pure apart
 * from reading `now`, so it is tested without a broker.
 */
export function decodeTelemetry(topic: ParsedTopic, payload: Uint8Array | string, device: DeviceRef, now: number, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodedTelemetry {
  if (topic.format === 'native' && topic.channel === 'cmd') return reject('not_publishable', 'cmd topics carry commands to devices; devices do not publish there');
  if (topic.format === 'owntracks' && topic.channel === 'cmd') return reject('not_publishable', 'cmd topics carry commands to devices; devices do not publish there');
  const parsed = parseJson(payload, limits);
  if (!parsed.ok) return parsed.result;
  const value = parsed.value;

  if (topic.format === 'native') {
    if (topic.channel === 'position') {
      if (!check(NativePosition, value)) return reject('schema', firstError(NativePosition, value));
      const p = value as NativePosition;
      const late = timeCheck(p.ts, now, limits);
      if (late) return late;
      return {
        type: 'positions',
        records: [
          record(device, 'native', now, { fixTime: p.ts, valid: p.valid ?? true, lat: p.lat, lon: p.lon, altitude: p.altitude, speedKmh: p.speed, course: p.course, accuracy: p.accuracy, battery: p.battery }),
        ],
      };
    }
    if (topic.channel === 'event') {
      if (!check(BadgeEvent, value)) return reject('schema', firstError(BadgeEvent, value));
      const e = value as BadgeEvent;
      const late = timeCheck(e.ts, now, limits);
      if (late) return late;
      const hasFix = e.lat !== undefined && e.lon !== undefined;
      return {
        type: 'event',
        event: e,
        ...(hasFix ? { record: record(device, 'native', now, { fixTime: e.ts, valid: true, lat: e.lat!, lon: e.lon!, battery: e.battery, alarms: e.type === 'sos' || e.type === 'fall' ? [e.type] : [] }) } : {}),
      };
    }
    if (!check(DeviceStatusPayload, value)) return reject('schema', firstError(DeviceStatusPayload, value));
    return { type: 'status', state: (value as DeviceStatusPayload).state };
  }

  if (topic.format === 'owntracks') {
    const type = (value as { _type?: unknown } | null)?._type;
    if (type === 'lwt') {
      if (!check(OwnTracksLwt, value)) return reject('schema', firstError(OwnTracksLwt, value));
      return { type: 'status', state: 'offline' };
    }
    if (type === 'transition') {
      if (!check(OwnTracksTransition, value)) return reject('schema', firstError(OwnTracksTransition, value));
      const t = value as typeof OwnTracksTransition.static;
      const fixTime = t.tst * 1000;
      const late = timeCheck(fixTime, now, limits);
      if (late) return late;
      return { type: 'positions', records: [record(device, 'owntracks', now, { fixTime, valid: true, lat: t.lat, lon: t.lon, accuracy: t.acc, alarms: [`${t.event}${t.desc ? `:${t.desc}` : ''}`] })] };
    }
    if (!check(OwnTracksLocation, value)) return reject('schema', firstError(OwnTracksLocation, value));
    const l = value as OwnTracksLocation;
    const fixTime = l.tst * 1000;
    const late = timeCheck(fixTime, now, limits);
    if (late) return late;
    return {
      type: 'positions',
      records: [
        record(device, 'owntracks', now, {
          fixTime,
          deviceTime: l.created_at !== undefined ? l.created_at * 1000 : fixTime,
          valid: true,
          lat: l.lat,
          lon: l.lon,
          accuracy: l.acc,
          altitude: l.alt,
          speedKmh: l.vel,
          course: l.cog,
          battery: l.batt,
        }),
      ],
    };
  }

  // ThingsBoard: { k: v } (server time), { ts, values }, or an array of those.
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0 || entries.length > 500) return reject('schema', 'telemetry must hold 1 to 500 entries');
  const records: PositionRecord[] = [];
  for (const entry of entries) {
    let ts = now;
    let values: Record<string, unknown>;
    if (entry && typeof entry === 'object' && 'ts' in entry) {
      if (!check(ThingsBoardEntry, entry)) return reject('schema', firstError(ThingsBoardEntry, entry));
      ts = (entry as { ts: number }).ts;
      values = (entry as { values: Record<string, unknown> }).values;
    } else {
      if (!check(ThingsBoardValues, entry)) return reject('schema', firstError(ThingsBoardValues, entry));
      values = entry as Record<string, unknown>;
    }
    const { latitude, longitude, speed, heading, accuracy, batteryLevel } = values;
    if (latitude === undefined && longitude === undefined) continue;
    const numbers = { latitude, longitude, speed, heading, accuracy, batteryLevel };
    for (const [key, n] of Object.entries(numbers)) {
      if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n))) return reject('schema', `${key} must be a number`);
    }
    const lat = latitude as number;
    const lon = longitude as number;
    if (typeof lat !== 'number' || typeof lon !== 'number' || lat < -90 || lat > 90 || lon < -180 || lon > 180) {
      return reject('schema', 'latitude must be -90..90 and longitude -180..180, both present');
    }
    const late = timeCheck(ts, now, limits);
    if (late) return late;
    records.push(
      record(device, 'thingsboard', now, {
        fixTime: ts,
        valid: true,
        lat,
        lon,
        speedKmh: speed as number | undefined,
        course: heading as number | undefined,
        accuracy: accuracy as number | undefined,
        battery: batteryLevel as number | undefined,
      }),
    );
  }
  if (records.length === 0) return reject('no_position', 'no entry carries latitude and longitude');
  return { type: 'positions', records };
}
