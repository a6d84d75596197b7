import { bcdTime } from './location.js';
import { gbk, readBcd } from './message.js';

/** Why a terminal could not read a driver's card (0x0702 IC card read result, 1-4). */
export const CARD_READ_FAILURES = ['key_auth_failed', 'card_locked', 'card_pulled_out', 'checksum_error'] as const;
export type CardReadFailure = (typeof CARD_READ_FAILURES)[number];

/** A driver's IC card as a terminal reports it (0x0702): put in and read, put in and not read, or taken out. */
export type DriverCard =
  | {
      status: 'inserted';
      /** When, epoch ms (the terminal's BCD time, GMT+8). */
      at: number;
      name: string;
      /** The qualification certificate number (从业资格证号), the 0x00 or space padding taken off either end. */
      qualificationCode: string;
      authority: string;
      /** The certificate's expiry, YYYY-MM-DD, when it is a date. */
      expires?: string;
    }
  | { status: 'unread'; at: number; failure: CardReadFailure }
  | { status: 'removed'; at: number };

/** A fixed-length STRING field: GBK, padded with 0x00 (on either side, as terminals differ) or spaces. */
function fixedString(bytes: Uint8Array): string {
  let start = 0;
  let end = bytes.length;
  while (start < end && (bytes[start] === 0 || bytes[start] === 0x20)) start++;
  while (end > start && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  return gbk.decode(bytes.subarray(start, end));
}

/**
 * 0x0702 driver identity report, 2013 and 2019 (JT/T 808-2013 8.46, -2019 8.49): status BYTE (1 the
 * card put in, the driver on duty; 2 taken out), time BCD[6]; when put in, the read result BYTE
 * (0 read; 1-4 why not), and when read: name length BYTE, name, qualification code STRING[20],
 * issuing authority length BYTE, its name, expiry BCD[4] YYYYMMDD. What 2019 adds after that
 * (the driver's ID card number) and what some provinces add after that is not used. The 2011
 * body (no status, no time) is not understood. Undefined when the body is not one of these.
 */
export function decodeDriverCard(body: Buffer): DriverCard | undefined {
  const status = body[0];
  const at = bcdTime(body.subarray(1, 7));
  if (body.length < 7 || at === undefined) return undefined;
  if (status === 0x02) return { status: 'removed', at };
  if (status !== 0x01 || body.length < 8) return undefined;
  const result = body[7]!;
  if (result !== 0) {
    const failure = CARD_READ_FAILURES[result - 1];
    return failure ? { status: 'unread', at, failure } : undefined;
  }
  let offset = 8;
  const nameLength = body[offset++];
  if (nameLength === undefined || body.length < offset + nameLength + 20 + 1) return undefined;
  const name = gbk.decode(body.subarray(offset, offset + nameLength));
  offset += nameLength;
  const qualificationCode = fixedString(body.subarray(offset, offset + 20));
  offset += 20;
  const authorityLength = body[offset++]!;
  if (body.length < offset + authorityLength + 4) return undefined;
  const authority = gbk.decode(body.subarray(offset, offset + authorityLength));
  offset += authorityLength;
  const expiry = readBcd(body.subarray(offset, offset + 4));
  const expires =
    expiry && /^(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(expiry) ? `${expiry.slice(0, 4)}-${expiry.slice(4, 6)}-${expiry.slice(6)}` : undefined;
  if (!qualificationCode) return undefined;
  return { status: 'inserted', at, name, qualificationCode, authority, ...(expires ? { expires } : {}) };
}
