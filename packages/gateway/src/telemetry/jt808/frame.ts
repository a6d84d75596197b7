/**
 * JT/T 808 framing: every message travels as `0x7e | header | body | checksum | 0x7e`, with
 * 0x7e inside sent as 0x7d 0x02 and 0x7d as 0x7d 0x01. The checksum is the XOR of the header
 * and body bytes; it is computed before escaping and checked after unescaping.
 */
export const FLAG = 0x7e;
const ESCAPE = 0x7d;

/** Why bytes between two flags are not a message. */
export type FrameFault = 'bad_escape' | 'bad_checksum' | 'too_short' | 'too_long';

export function xorChecksum(bytes: Uint8Array, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum ^= bytes[i]!;
  return sum;
}

/** Header and body of one frame's content (flags excluded), or why it is not one. */
export function unframe(escaped: Uint8Array): { ok: true; message: Buffer } | { ok: false; fault: FrameFault } {
  const out = Buffer.allocUnsafe(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    const byte = escaped[i]!;
    if (byte !== ESCAPE) {
      out[n++] = byte;
      continue;
    }
    const next = escaped[++i];
    if (next === 0x02) out[n++] = FLAG;
    else if (next === 0x01) out[n++] = ESCAPE;
    else return { ok: false, fault: 'bad_escape' };
  }
  // The shortest header (2011/2013, no sub-package) is 12 bytes, then the checksum.
  if (n < 13) return { ok: false, fault: 'too_short' };
  if (xorChecksum(out, n - 1) !== out[n - 1]) return { ok: false, fault: 'bad_checksum' };
  return { ok: true, message: out.subarray(0, n - 1) };
}

/** A whole frame for header + body: checksum appended, escaped, between flags. */
export function frame(message: Uint8Array): Buffer {
  const check = xorChecksum(message);
  const escapes = (byte: number) => (byte === FLAG || byte === ESCAPE ? 1 : 0);
  let length = message.length + 3 + escapes(check);
  for (let i = 0; i < message.length; i++) length += escapes(message[i]!);
  const out = Buffer.allocUnsafe(length);
  let n = 0;
  out[n++] = FLAG;
  const put = (byte: number) => {
    if (byte === FLAG) (out[n++] = ESCAPE), (out[n++] = 0x02);
    else if (byte === ESCAPE) (out[n++] = ESCAPE), (out[n++] = 0x01);
    else out[n++] = byte;
  };
  for (let i = 0; i < message.length; i++) put(message[i]!);
  put(check);
  out[n] = FLAG;
  return out;
}

/**
 * Cuts a TCP byte stream into frames. It holds at most `maxFrameBytes` of an unfinished frame:
 * a peer that sends more without a closing flag is not speaking JT/T 808, and what it sent is
 * dropped up to the next flag (and reported as too long), so a connection's memory stays bounded.
 */
export class FrameSplitter {
  private buffer: Buffer = Buffer.alloc(0);
  private inFrame = false;
  private overflowed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** The frames' escaped contents (without flags) this chunk completes, and faults met. */
  push(chunk: Buffer): { frames: Buffer[]; tooLong: number } {
    const frames: Buffer[] = [];
    let tooLong = 0;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== FLAG) continue;
      if (this.inFrame) {
        const part = chunk.subarray(start, i);
        if (this.overflowed || this.buffer.length + part.length > this.maxFrameBytes) tooLong++;
        else {
          const content = this.buffer.length > 0 ? Buffer.concat([this.buffer, part]) : Buffer.from(part);
          // Two flags in a row: the end of one frame and the start of the next, or line noise.
          if (content.length > 0) frames.push(content);
          else {
            // An empty frame means this flag opened a frame: stay inside.
            this.buffer = Buffer.alloc(0);
            start = i + 1;
            continue;
          }
        }
        this.buffer = Buffer.alloc(0);
        this.overflowed = false;
        this.inFrame = false;
      } else {
        // Bytes before an opening flag are not part of any frame.
        this.inFrame = true;
      }
      start = i + 1;
    }
    if (this.inFrame && start < chunk.length && !this.overflowed) {
      const rest = chunk.subarray(start);
      if (this.buffer.length + rest.length > this.maxFrameBytes) {
        this.overflowed = true;
        this.buffer = Buffer.alloc(0);
      } else this.buffer = Buffer.concat([this.buffer, rest]);
    }
    return { frames, tooLong };
  }
}
