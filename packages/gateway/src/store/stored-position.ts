import type { DeviceKind, PositionRecord, PositionSource } from '@civicloop/model';

/**
 * How a position record is kept in Redis (a device's track, its last state, the tenant's position
 * stream): JSON with short names, leaving out what the rest says already. A record's key is its
 * device and fix time, its device time is usually its fix time, it is usually valid, without
 * alarms and from the native format: those are written only when they say something else.
 *
 * Why not the record as the API shows it: ingestion writes every position once or three times,
 * and the full form (about 230 bytes for a plain fix against about 100) cost the gateway over a
 * microsecond per message to serialise and Redis as much again to store (docs/benchmarks.md,
 * "Where the QoS 1 path's time goes").
 *
 * | name | field | written |
 * | --- | --- | --- |
 * | d, k | deviceId, kind | always |
 * | t, s | fixTime, serverTime | always |
 * | la, lo | lat, lon | always |
 * | dt | deviceTime | when it is not fixTime |
 * | v | valid | `false` only |
 * | al, sp, c, ac, b | altitude, speedKmh, course, accuracy, battery | when present |
 * | a | alarms | when there are any |
 * | src | source | when not `native` |
 * | key | key | when not `deviceId:fixTime` |
 * | r, x | received, extra | when present |
 *
 * Numbers are written as JSON.stringify writes them (a non-finite one as null), so a record reads
 * back as it would have through JSON.
 */
export function encodeStoredPosition(r: PositionRecord): string {
  const fix = num(r.fixTime);
  let out = `{"d":${JSON.stringify(r.deviceId)},"k":${JSON.stringify(r.kind)},"t":${fix},"s":${num(r.serverTime)},"la":${num(r.lat)},"lo":${num(r.lon)}`;
  if (r.deviceTime !== r.fixTime) out += `,"dt":${num(r.deviceTime)}`;
  if (r.valid !== true) out += `,"v":${JSON.stringify(r.valid)}`;
  if (r.altitude !== undefined) out += `,"al":${num(r.altitude)}`;
  if (r.speedKmh !== undefined) out += `,"sp":${num(r.speedKmh)}`;
  if (r.course !== undefined) out += `,"c":${num(r.course)}`;
  if (r.accuracy !== undefined) out += `,"ac":${num(r.accuracy)}`;
  if (r.battery !== undefined) out += `,"b":${num(r.battery)}`;
  if (r.alarms.length > 0) out += `,"a":${JSON.stringify(r.alarms)}`;
  if (r.source !== 'native') out += `,"src":${JSON.stringify(r.source)}`;
  if (!isDerivedKey(r.key, r.deviceId, fix)) out += `,"key":${JSON.stringify(r.key)}`;
  if (r.received !== undefined) out += `,"r":${JSON.stringify(r.received)}`;
  if (r.extra !== undefined) out += `,"x":${JSON.stringify(r.extra)}`;
  return `${out}}`;
}

/**
 * Whether a key is `deviceId:fixTime`, as decodeStoredPosition makes it again, compared in place
 * rather than by building that string for every record. A fix time that is not a finite number
 * is written as null, from which its key could not be made again: such a key is always kept.
 */
function isDerivedKey(key: string, deviceId: string, fix: string): boolean {
  return (
    fix !== 'null' &&
    key.length === deviceId.length + 1 + fix.length &&
    key.charCodeAt(deviceId.length) === 58 /* : */ &&
    key.startsWith(deviceId) &&
    key.endsWith(fix)
  );
}

/** A template literal writes Infinity and NaN as words, which JSON has not: JSON.stringify writes null. */
const num = (n: number): string => (Number.isFinite(n) ? `${n}` : 'null');

interface Stored {
  d: string;
  k: DeviceKind;
  t: number;
  s: number;
  la: number;
  lo: number;
  dt?: number;
  v?: boolean;
  al?: number;
  sp?: number;
  c?: number;
  ac?: number;
  b?: number;
  a?: string[];
  src?: PositionSource;
  key?: string;
  r?: PositionRecord['received'];
  x?: PositionRecord['extra'];
}

/** The record as encodeStoredPosition wrote it, or as written whole before it existed (those have `deviceId`). */
export function decodeStoredPosition(raw: string): PositionRecord {
  const s = JSON.parse(raw) as Stored | PositionRecord;
  if ('deviceId' in s) return s;
  const record: PositionRecord = {
    deviceId: s.d,
    kind: s.k,
    fixTime: s.t,
    deviceTime: 'dt' in s ? s.dt! : s.t,
    serverTime: s.s,
    valid: 'v' in s ? s.v! : true,
    lat: s.la,
    lon: s.lo,
    alarms: s.a ?? [],
    source: s.src ?? 'native',
    key: s.key ?? `${s.d}:${s.t}`,
  };
  if ('al' in s) record.altitude = s.al!;
  if ('sp' in s) record.speedKmh = s.sp!;
  if ('c' in s) record.course = s.c!;
  if ('ac' in s) record.accuracy = s.ac!;
  if ('b' in s) record.battery = s.b!;
  if ('r' in s) record.received = s.r!;
  if ('x' in s) record.extra = s.x!;
  return record;
}
