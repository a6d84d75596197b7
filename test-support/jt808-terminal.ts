import { connect, type Socket } from 'node:net';
import iconv from 'iconv-lite';

/**
 * A JT/T 808 terminal for tests, written from the standard rather than from the gateway's codec
 * (so the two are not the same code on both sides): it frames, escapes and checksums its own
 * messages, speaks the 2013 or the 2019 header, and collects the platform's messages.
 */
export interface PlatformMessage {
  id: number;
  serial: number;
  body: Buffer;
  version: 2013 | 2019;
}

export interface Fix {
  lat: number;
  lon: number;
  /** epoch ms; written as BCD in GMT+8 */
  time: number;
  speedKmh?: number;
  course?: number;
  altitude?: number;
  alarm?: number;
  valid?: boolean;
  mileageKm?: number;
  satellites?: number;
}

const bcd = (digits: string, bytes: number) => Buffer.from(digits.padStart(bytes * 2, '0'), 'hex');
const word = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const dword = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A time (epoch ms) as terminals write it: BCD[6] YYMMDDhhmmss in GMT+8. */
export function bcdTimeOf(ms: number): Buffer {
  const local = new Date(ms + 8 * 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  const digits = [local.getUTCFullYear() % 100, local.getUTCMonth() + 1, local.getUTCDate(), local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds()];
  return Buffer.from(digits.map(two).join(''), 'hex');
}

/** A driver's IC card as a terminal reports it (0x0702, 2013 layout): put in and read, put in and not read (result 1-4), taken out. */
export type CardReport =
  | { status: 'in'; time: number; name: string; code: string; authority?: string; expires?: string }
  | { status: 'unread'; time: number; result: number }
  | { status: 'out'; time: number };

export function driverCardBody(card: CardReport): Buffer {
  const head = Buffer.concat([Buffer.from([card.status === 'out' ? 2 : 1]), bcdTimeOf(card.time)]);
  if (card.status === 'out') return head;
  if (card.status === 'unread') return Buffer.concat([head, Buffer.from([card.result])]);
  const name = iconv.encode(card.name, 'gbk');
  const authority = iconv.encode(card.authority ?? '广州市交通运输局', 'gbk');
  // STRING[20], padded after with 0x00, as most terminals write it.
  const code = Buffer.alloc(20);
  code.write(card.code, 'latin1');
  const expires = Buffer.from((card.expires ?? '2030-12-31').replace(/-/g, ''), 'hex');
  return Buffer.concat([head, Buffer.from([0, name.length]), name, code, Buffer.from([authority.length]), authority, expires]);
}

export function locationBody(fix: Fix): Buffer {
  const time = bcdTimeOf(fix.time).toString('hex');
  const status = (fix.valid === false ? 0 : 0x02) | (fix.lat < 0 ? 0x04 : 0) | (fix.lon < 0 ? 0x08 : 0) | 0x01;
  const parts = [
    dword(fix.alarm ?? 0),
    dword(status),
    dword(Math.round(Math.abs(fix.lat) * 1e6)),
    dword(Math.round(Math.abs(fix.lon) * 1e6)),
    word(fix.altitude ?? 12),
    word(Math.round((fix.speedKmh ?? 0) * 10)),
    word(fix.course ?? 0),
    Buffer.from(time, 'hex'),
  ];
  if (fix.mileageKm !== undefined) parts.push(Buffer.from([0x01, 4]), dword(Math.round(fix.mileageKm * 10)));
  if (fix.satellites !== undefined) parts.push(Buffer.from([0x31, 1, fix.satellites]));
  return Buffer.concat(parts);
}

/** A multimedia upload's body (0x0801, 2013/2019 form): id, type, format, event, channel, where, the data. */
export interface MultimediaUpload {
  id: number;
  /** 0 image, 1 audio, 2 video. */
  type?: number;
  /** 0 JPEG, 2 MP3, 3 WAV... */
  format?: number;
  /** 0 platform command, 1 timed, 2 robbery alarm, 3 collision... */
  event?: number;
  channel?: number;
  fix: Fix;
  data: Buffer;
}

export function multimediaBody(upload: MultimediaUpload): Buffer {
  const head = Buffer.concat([dword(upload.id), Buffer.from([upload.type ?? 0, upload.format ?? 0, upload.event ?? 0, upload.channel ?? 1])]);
  // Only the basic location information (28 bytes) goes with it: no additional items.
  return Buffer.concat([head, locationBody(upload.fix).subarray(0, 28), upload.data]);
}

/** Escapes and frames header + body with its checksum, as the standard's section 4.4 says. */
export function frameOf(message: Buffer): Buffer {
  let check = 0;
  for (const b of message) check ^= b;
  const raw = Buffer.concat([message, Buffer.from([check])]);
  const out: number[] = [0x7e];
  for (const b of raw) {
    if (b === 0x7e) out.push(0x7d, 0x02);
    else if (b === 0x7d) out.push(0x7d, 0x01);
    else out.push(b);
  }
  out.push(0x7e);
  return Buffer.from(out);
}

export class Jt808Terminal {
  private socket!: Socket;
  private serial = 0;
  private buffer = Buffer.alloc(0);
  readonly received: PlatformMessage[] = [];
  private waiters: { test: (m: PlatformMessage) => boolean; resolve: (m: PlatformMessage) => void }[] = [];
  closed = false;

  constructor(
    readonly terminal: string,
    readonly version: 2013 | 2019 = 2013,
  ) {}

  async connect(port: number): Promise<void> {
    this.closed = false;
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const start = this.buffer.indexOf(0x7e);
      const end = start < 0 ? -1 : this.buffer.indexOf(0x7e, start + 1);
      if (end < 0) return;
      const escaped = this.buffer.subarray(start + 1, end);
      this.buffer = this.buffer.subarray(end + 1);
      const bytes: number[] = [];
      for (let i = 0; i < escaped.length; i++) {
        if (escaped[i] === 0x7d) bytes.push(escaped[++i] === 0x02 ? 0x7e : 0x7d);
        else bytes.push(escaped[i]!);
      }
      const data = Buffer.from(bytes.slice(0, -1));
      const attributes = data.readUInt16BE(2);
      const is2019 = (attributes & 0x4000) !== 0;
      const headerLength = is2019 ? 17 : 12;
      const message: PlatformMessage = {
        id: data.readUInt16BE(0),
        serial: data.readUInt16BE(headerLength - 2),
        body: data.subarray(headerLength),
        version: is2019 ? 2019 : 2013,
      };
      this.received.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.test(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    }
  }

  /** The next platform message that passes `test` (already received ones included). */
  next(test: (m: PlatformMessage) => boolean, timeoutMs = 5000): Promise<PlatformMessage> {
    const found = this.received.find(test);
    if (found) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no platform message matched within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  /** Header + body for message `id`; `part` makes it one of a split message. */
  message(id: number, body: Buffer, part?: { total: number; index: number }): { bytes: Buffer; serial: number } {
    const serial = this.serial++ & 0xffff;
    let attributes = body.length | (part ? 0x2000 : 0) | (this.version === 2019 ? 0x4000 : 0);
    const header = [word(id), word(attributes)];
    if (this.version === 2019) header.push(Buffer.from([1]));
    header.push(bcd(this.terminal, this.version === 2019 ? 10 : 6), word(serial));
    if (part) header.push(word(part.total), word(part.index));
    attributes = 0;
    return { bytes: frameOf(Buffer.concat([...header, body])), serial };
  }

  /** Sends a message; resolves with its serial. */
  send(id: number, body: Buffer = Buffer.alloc(0), part?: { total: number; index: number }): number {
    const { bytes, serial } = this.message(id, body, part);
    // Messages sent in the same turn leave in one write, as a terminal's TCP stack coalesces them.
    if (this.socket.writableCorked === 0) {
      this.socket.cork();
      process.nextTick(() => this.socket.uncork());
    }
    this.socket.write(bytes);
    return serial;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The platform's general response (0x8001) to the message with this serial: its result byte. */
  async answerTo(serial: number, timeoutMs?: number): Promise<number> {
    const reply = await this.next((m) => m.id === 0x8001 && m.body.readUInt16BE(0) === serial, timeoutMs);
    return reply.body[4]!;
  }

  /** Registers (0x0100) and returns the 0x8100 result and code. */
  async register(plate = '粤A12345'): Promise<{ result: number; code?: string }> {
    const plateBytes = Buffer.from(plate.replace('粤', ''), 'latin1');
    const body =
      this.version === 2019
        ? Buffer.concat([
            word(44),
            word(100),
            Buffer.alloc(11, 0x41),
            Buffer.alloc(30, 0x42),
            Buffer.alloc(30, 0x43),
            Buffer.from([1]),
            Buffer.from([0xd4, 0xc1]),
            plateBytes,
          ])
        : Buffer.concat([
            word(44),
            word(100),
            Buffer.alloc(5, 0x41),
            Buffer.alloc(20, 0x42),
            Buffer.alloc(7, 0x43),
            Buffer.from([1]),
            Buffer.from([0xd4, 0xc1]),
            plateBytes,
          ]);
    const serial = this.send(0x0100, body);
    const reply = await this.next((m) => m.id === 0x8100 && m.body.readUInt16BE(0) === serial);
    const result = reply.body[2]!;
    return result === 0 ? { result, code: reply.body.subarray(3).toString('latin1') } : { result };
  }

  /** Authenticates (0x0102) with a code; the 0x8001 result. */
  async authenticate(code: string): Promise<number> {
    const codeBytes = Buffer.from(code, 'latin1');
    const body =
      this.version === 2019
        ? Buffer.concat([Buffer.from([codeBytes.length]), codeBytes, Buffer.from('860000000000001', 'latin1'), Buffer.alloc(20, 0x30)])
        : codeBytes;
    return this.answerTo(this.send(0x0102, body));
  }

  /** Reports a driver's IC card (0x0702); the message's serial. */
  driverCard(card: CardReport): number {
    return this.send(0x0702, driverCardBody(card));
  }

  report(fix: Fix): number {
    return this.send(0x0200, locationBody(fix));
  }

  /** A 0x0704 batch (blind-area data when `blindArea`). */
  batch(fixes: Fix[], blindArea = true): number {
    const items = fixes.map((fix) => {
      const body = locationBody(fix);
      return Buffer.concat([word(body.length), body]);
    });
    return this.send(0x0704, Buffer.concat([word(fixes.length), Buffer.from([blindArea ? 1 : 0]), ...items]));
  }

  /**
   * A multimedia upload (0x0801), split into sub-packages of at most `partBytes` of body each, as
   * terminals send a photo (no body may exceed 1023 bytes); the serial of each part.
   */
  upload(upload: MultimediaUpload, partBytes = 1000): number[] {
    const body = multimediaBody(upload);
    const total = Math.ceil(body.length / partBytes);
    return Array.from({ length: total }, (_, i) => this.send(0x0801, body.subarray(i * partBytes, (i + 1) * partBytes), { total, index: i + 1 }));
  }

  close(): void {
    this.socket?.destroy();
  }
}
