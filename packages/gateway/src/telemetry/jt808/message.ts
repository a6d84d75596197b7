import iconv from 'iconv-lite';

/**
 * A JT/T 808 message header, as 2011, 2013 and 2019 write it (big-endian):
 * id WORD, body attributes WORD (bits 0-9 body length, 10-12 encryption, 13 sub-package,
 * 14 version flag, 2019 only), [2019: protocol version BYTE], terminal number BCD (6 bytes;
 * 10 in 2019), serial WORD, [sub-package: total WORD, index WORD].
 */
export interface Header {
  id: number;
  /** 2013 covers 2011 (the same header); 2019 is told by its version flag. */
  version: 2013 | 2019;
  /** The 2019 header's protocol version byte (1 for 2019). */
  protocolVersion?: number;
  /** The terminal number, digits as sent (leading zeros included). */
  terminal: string;
  serial: number;
  encryption: number;
  /** Present when the message is one part of several. */
  part?: { total: number; index: number };
}

export interface Message {
  header: Header;
  body: Buffer;
}

export const MESSAGE_IDS = {
  terminalResponse: 0x0001,
  heartbeat: 0x0002,
  logout: 0x0003,
  timeQuery: 0x0004,
  register: 0x0100,
  authenticate: 0x0102,
  location: 0x0200,
  locationAnswer: 0x0201,
  batchLocation: 0x0704,
  driverCard: 0x0702,
  platformResponse: 0x8001,
  timeAnswer: 0x8004,
  registerAnswer: 0x8100,
  locationQuery: 0x8201,
  text: 0x8300,
  question: 0x8302,
  questionAnswer: 0x0302,
  alarmConfirmation: 0x8203,
  multimediaEvent: 0x0800,
  multimediaData: 0x0801,
  multimediaAnswer: 0x8800,
  cameraCommand: 0x8801,
  cameraAnswer: 0x0805,
} as const;

/** The general response's result byte (0x8001 and 0x0001). */
export const RESULT = { ok: 0, failure: 1, messageError: 2, notSupported: 3 } as const;

/** 0x8100 results: 0 success, 3 terminal already registered, 4 no such terminal in the platform. */
export const REGISTER_RESULT = { ok: 0, vehicleRegistered: 1, noSuchVehicle: 2, terminalRegistered: 3, noSuchTerminal: 4 } as const;

export type ParseFault = 'bad_header' | 'bad_length';

export function readBcd(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const byte of bytes) {
    const high = byte >> 4;
    const low = byte & 0x0f;
    if (high > 9 || low > 9) return undefined;
    out += `${high}${low}`;
  }
  return out;
}

export function writeBcd(digits: string, bytes: number): Buffer {
  const padded = digits.padStart(bytes * 2, '0').slice(-bytes * 2);
  return Buffer.from(padded, 'hex');
}

/** Parses a message (header and body, unescaped, checksum removed). */
export function parseMessage(data: Buffer): { ok: true; message: Message } | { ok: false; fault: ParseFault } {
  if (data.length < 12) return { ok: false, fault: 'bad_header' };
  const id = data.readUInt16BE(0);
  const attributes = data.readUInt16BE(2);
  const length = attributes & 0x03ff;
  const encryption = (attributes >> 10) & 0x07;
  const split = (attributes & 0x2000) !== 0;
  const is2019 = (attributes & 0x4000) !== 0;
  let at = 4;
  let protocolVersion: number | undefined;
  if (is2019) protocolVersion = data[at++];
  const terminalBytes = is2019 ? 10 : 6;
  if (data.length < at + terminalBytes + 2 + (split ? 4 : 0)) return { ok: false, fault: 'bad_header' };
  const terminal = readBcd(data.subarray(at, at + terminalBytes));
  if (terminal === undefined) return { ok: false, fault: 'bad_header' };
  at += terminalBytes;
  const serial = data.readUInt16BE(at);
  at += 2;
  let part: Header['part'];
  if (split) {
    part = { total: data.readUInt16BE(at), index: data.readUInt16BE(at + 2) };
    at += 4;
    if (part.total < 1 || part.index < 1 || part.index > part.total) return { ok: false, fault: 'bad_header' };
  }
  if (data.length - at !== length) return { ok: false, fault: 'bad_length' };
  const header: Header = {
    id,
    version: is2019 ? 2019 : 2013,
    terminal,
    serial,
    encryption,
    ...(protocolVersion !== undefined ? { protocolVersion } : {}),
    ...(part ? { part } : {}),
  };
  return { ok: true, message: { header, body: data.subarray(at) } };
}

/** Header + body of a platform message to a terminal, in the header version the terminal speaks. */
export function buildMessage(id: number, to: Pick<Header, 'version' | 'terminal' | 'protocolVersion'>, serial: number, body: Uint8Array): Buffer {
  if (body.length > 0x03ff) throw new RangeError(`JT/T 808 body of ${body.length} bytes needs sub-packages; none of our messages should`);
  let attributes = body.length;
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeUInt16BE(id, 0);
  if (to.version === 2019) attributes |= 0x4000;
  head.writeUInt16BE(attributes, 2);
  parts.push(head);
  if (to.version === 2019) parts.push(Buffer.from([to.protocolVersion ?? 1]));
  parts.push(writeBcd(to.terminal, to.version === 2019 ? 10 : 6));
  const serialBytes = Buffer.alloc(2);
  serialBytes.writeUInt16BE(serial & 0xffff, 0);
  parts.push(serialBytes, Buffer.from(body));
  return Buffer.concat(parts);
}

/** JT/T 808 strings are GBK. */
export const gbk = {
  decode: (bytes: Uint8Array): string => iconv.decode(Buffer.from(bytes), 'gbk').replace(/\0+$/, ''),
  encode: (text: string): Buffer => iconv.encode(text, 'gbk'),
};

/** 0x8001 / 0x0001 body: reply serial, reply id, result. */
export function generalResponse(replySerial: number, replyId: number, result: number): Buffer {
  const body = Buffer.alloc(5);
  body.writeUInt16BE(replySerial, 0);
  body.writeUInt16BE(replyId, 2);
  body[4] = result;
  return body;
}

/** 0x8100 body: reply serial, result, and on success the authentication code. */
export function registerAnswer(replySerial: number, result: number, authCode?: string): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(replySerial, 0);
  head[2] = result;
  return result === REGISTER_RESULT.ok && authCode ? Buffer.concat([head, Buffer.from(authCode, 'latin1')]) : head;
}

/** The authentication code of a 0x0102 body: all of it before 2019, length-prefixed in 2019. */
export function authCodeOf(header: Header, body: Buffer): string | undefined {
  if (header.version === 2019) {
    const length = body[0];
    if (length === undefined || body.length < 1 + length) return undefined;
    return body.subarray(1, 1 + length).toString('latin1');
  }
  return body.toString('latin1');
}

/**
 * 0x8300 body: flag byte (bit 0 urgent, bit 2 show on the terminal's display, bit 3 read aloud
 * by TTS), [2019: text type, 1 notice, 2 service information], the text in GBK.
 */
export function textMessage(version: 2013 | 2019, text: string, urgent: boolean): Buffer {
  const flag = 0x04 | 0x08 | (urgent ? 0x01 : 0);
  // The body must fit one packet.
  const fitted = gbkWithin(text, 0x03ff - (version === 2019 ? 2 : 1));
  return Buffer.concat([Buffer.from(version === 2019 ? [flag, 2] : [flag]), fitted]);
}

/**
 * 0x8203 body (JT/T 808-2013 8.25): the serial of the alarm report confirmed, WORD (0: every
 * report of those alarms), and the alarm bits confirmed, DWORD, as in a report's alarm flags.
 */
export function alarmConfirmationMessage(alarmBits: number, reportSerial = 0): Buffer {
  const body = Buffer.alloc(6);
  body.writeUInt16BE(reportSerial, 0);
  body.writeUInt32BE(alarmBits >>> 0, 2);
  return body;
}

/** A text in GBK cut (at a character, not inside one) to at most `room` bytes. */
function gbkWithin(text: string, room: number): Buffer {
  let fitted = gbk.encode(text);
  let chars = text.length;
  while (fitted.length > room) fitted = gbk.encode(text.slice(0, --chars));
  return fitted;
}

/** A candidate answer of a question (0x8302): its id, which the terminal's answer (0x0302) names, and its words. */
export interface QuestionAnswer {
  id: number;
  text: string;
}

/**
 * 0x8302 body (question): flag BYTE (bit 0 urgent, bit 3 read aloud by TTS), the question's length
 * BYTE and the question (GBK, so at most 255 bytes: cut to fit), then each candidate answer: id
 * BYTE, length WORD, its words (GBK). The same in 2013 and 2019.
 */
export function questionMessage(question: string, answers: readonly QuestionAnswer[], urgent: boolean): Buffer {
  const asked = gbkWithin(question, 0xff);
  const parts = [Buffer.from([0x08 | (urgent ? 0x01 : 0), asked.length]), asked];
  for (const answer of answers) {
    const words = gbk.encode(answer.text);
    parts.push(Buffer.from([answer.id, words.length >> 8, words.length & 0xff]), words);
  }
  return Buffer.concat(parts);
}

/** 0x8004 body: the platform's time, UTC, BCD YYMMDDhhmmss. */
export function timeAnswer(now: Date): Buffer {
  const two = (n: number) => String(n).padStart(2, '0');
  const digits = [now.getUTCFullYear() % 100, now.getUTCMonth() + 1, now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds()]
    .map(two)
    .join('');
  return Buffer.from(digits, 'hex');
}
