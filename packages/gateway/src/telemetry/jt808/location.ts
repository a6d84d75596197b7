import { mapCheck, positionRecord, timeCheck, type DecodeLimits, type DeviceRef, type PositionRecord } from '@civicloop/model';

/** Alarm flag bits of the 0x0200 alarm DWORD (JT/T 808-2013 table 24, 2019 table 25). */
const ALARM_BITS: Record<number, string> = {
  0: 'sos',
  1: 'overspeed',
  2: 'fatigue',
  3: 'danger_warning',
  4: 'gnss_fault',
  5: 'gnss_antenna_cut',
  6: 'gnss_antenna_short',
  7: 'low_voltage',
  8: 'power_off',
  9: 'display_fault',
  10: 'tts_fault',
  11: 'camera_fault',
  12: 'ic_card_fault',
  13: 'overspeed_warning',
  14: 'fatigue_warning',
  18: 'driving_overtime',
  19: 'parking_overtime',
  20: 'area_in_out',
  21: 'route_in_out',
  22: 'route_time',
  23: 'route_deviation',
  24: 'vss_fault',
  25: 'fuel_abnormal',
  26: 'theft',
  27: 'illegal_ignition',
  28: 'illegal_displacement',
  29: 'collision',
  30: 'rollover',
};

export function alarmNames(flags: number): string[] {
  const names: string[] = [];
  if (flags === 0) return names;
  for (let bit = 0; bit < 32; bit++) {
    const name = ALARM_BITS[bit];
    if ((flags >>> bit) & 1 && name) names.push(name);
  }
  return names;
}

/** The alarm flag bits of the alarms named (names a report's flags do not have are left out). */
export function alarmFlags(names: readonly string[]): number {
  let flags = 0;
  for (const [bit, name] of Object.entries(ALARM_BITS)) if (names.includes(name)) flags |= 1 << Number(bit);
  return flags >>> 0;
}

/** The basic information of a location report: 28 bytes before the additional items. */
const BASIC_BYTES = 28;
const GMT8_MS = 8 * 3_600_000;

export type LocationResult =
  | { ok: true; record: PositionRecord }
  | { ok: false; reason: 'schema' | 'out_of_range' | 'future_fix' | 'stale_fix'; detail: string };

/** YYMMDDhhmmss in GMT+8 (the terminal's clock) as epoch ms, or undefined when it is not a time. */
export function bcdTime(bytes: Uint8Array): number | undefined {
  // Read as numbers, two digits a byte, without a string or a Date: every report carries one.
  const yy = bcdByte(bytes[0]);
  const mo = bcdByte(bytes[1]);
  const dd = bcdByte(bytes[2]);
  const hh = bcdByte(bytes[3]);
  const mi = bcdByte(bytes[4]);
  const ss = bcdByte(bytes[5]);
  if (yy < 0 || mo < 1 || mo > 12 || dd < 1 || dd > daysIn(2000 + yy, mo) || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return undefined;
  return Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss) - GMT8_MS;
}

/** A BCD byte's two digits as a number, -1 when a nibble is not a digit (or the byte is missing). */
function bcdByte(byte: number | undefined): number {
  if (byte === undefined) return -1;
  const high = byte >> 4;
  const low = byte & 0x0f;
  return high > 9 || low > 9 ? -1 : high * 10 + low;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month of a year (1-12), leap years as the Gregorian calendar has them. */
function daysIn(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

/**
 * The body of a 0x0200 location report (also each item of a 0x0704 batch and the tail of a
 * 0x0201 answer): alarm DWORD, status DWORD (bit 1 fix valid, bit 2 south, bit 3 west), latitude
 * and longitude DWORD in 10^-6 degrees, altitude WORD (m), speed WORD (0.1 km/h), direction
 * WORD, time BCD[6] in GMT+8, then additional items (id BYTE, length BYTE, value).
 */
export function decodeLocation(body: Buffer, device: DeviceRef, now: number, limits: DecodeLimits): LocationResult {
  if (body.length < BASIC_BYTES)
    return { ok: false, reason: 'schema', detail: `a location body has at least ${BASIC_BYTES} bytes; this one has ${body.length}` };
  const alarm = body.readUInt32BE(0);
  const status = body.readUInt32BE(4);
  const lat = (body.readUInt32BE(8) / 1e6) * (status & 0x04 ? -1 : 1);
  const lon = (body.readUInt32BE(12) / 1e6) * (status & 0x08 ? -1 : 1);
  const altitude = body.readInt16BE(16);
  const speedKmh = body.readUInt16BE(18) / 10;
  const course = body.readUInt16BE(20);
  const fixTime = bcdTime(body.subarray(22, 28));
  if (fixTime === undefined) return { ok: false, reason: 'schema', detail: `time ${body.subarray(22, 28).toString('hex')} is not a BCD YYMMDDhhmmss` };
  const refused = timeCheck(fixTime, now, limits) ?? mapCheck(lat, lon);
  if (refused?.type === 'rejected') return { ok: false, reason: refused.reason as 'schema', detail: refused.detail };
  const extra: Record<string, number> = { acc: status & 0x01 };
  let at = BASIC_BYTES;
  // Additional items: a short or overrunning one ends the list (vendors pad and truncate); what
  // came before it stands.
  while (at + 2 <= body.length) {
    const id = body[at]!;
    const length = body[at + 1]!;
    const value = body.subarray(at + 2, at + 2 + length);
    if (value.length < length) break;
    at += 2 + length;
    if (id === 0x01 && length === 4) extra.mileageKm = value.readUInt32BE(0) / 10;
    else if (id === 0x02 && length === 2) extra.fuelL = value.readUInt16BE(0) / 10;
    else if (id === 0x03 && length === 2) extra.recorderSpeedKmh = value.readUInt16BE(0) / 10;
    else if (id === 0x30 && length === 1) extra.signal = value[0]!;
    else if (id === 0x31 && length === 1) extra.satellites = value[0]!;
  }
  const record = positionRecord(device, 'jt808', now, {
    fixTime,
    valid: (status & 0x02) !== 0,
    lat,
    lon,
    altitude,
    speedKmh,
    course: course % 360,
    alarms: alarmNames(alarm),
  });
  record.extra = extra;
  return { ok: true, record };
}

/** 0x0704: count WORD, type BYTE (0 regular batch, 1 blind-area data), then per item: length WORD, location body. */
export function decodeBatch(body: Buffer): { ok: true; items: Buffer[]; blindArea: boolean } | { ok: false; detail: string } {
  if (body.length < 3) return { ok: false, detail: 'a batch upload has at least 3 bytes' };
  const count = body.readUInt16BE(0);
  const items: Buffer[] = [];
  let at = 3;
  for (let i = 0; i < count; i++) {
    if (at + 2 > body.length) return { ok: false, detail: `the batch says ${count} items and ends after ${i}` };
    const length = body.readUInt16BE(at);
    const item = body.subarray(at + 2, at + 2 + length);
    if (item.length < length) return { ok: false, detail: `item ${i + 1} overruns the batch` };
    items.push(item);
    at += 2 + length;
  }
  return { ok: true, items, blindArea: body[2] === 1 };
}
