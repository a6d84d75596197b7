import { Duplex } from 'node:stream';
import { OVERSIZED_MARKER } from './authorize-publish.js';

export interface GuardLimits {
  /** Bytes a client may send before it has authenticated: its CONNECT and anything queued behind it. */
  preAuthMaxBytes: number;
  /** Largest PUBLISH payload once authenticated; a larger body is discarded as it streams in. */
  maxPayloadBytes: number;
  /** Largest other packet (SUBSCRIBE, ...) once authenticated. */
  maxControlBytes: number;
  /** Longest topic name accepted in an oversized PUBLISH (the part that is kept). */
  maxTopicBytes: number;
}

export type GuardViolation = 'too_large' | 'not_connect_first' | 'malformed';

const PUBLISH = 3;
const CONNECT = 1;

type State =
  | { at: 'header'; bytes: number[] }
  | { at: 'pass'; left: number }
  | { at: 'keep'; fixed: number; length: number; kept: number[]; need: number }
  | { at: 'skip'; left: number };

function encodeLength(length: number): Buffer {
  const out: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    out.push(byte);
  } while (length > 0);
  return Buffer.from(out);
}

/**
 * Sits between a client's socket (TCP, or a WebSocket stream) and the broker, reading MQTT's
 * fixed headers as the bytes stream past, so that memory stays bounded whatever a client
 * announces:
 *
 * - before it has authenticated, a client may send at most `preAuthMaxBytes` in all, and its
 *   first packet must be CONNECT: a connection announcing a 250 MB packet is closed at its
 *   second byte, not after the gateway has buffered what it sends;
 * - once authenticated, a PUBLISH whose payload exceeds `maxPayloadBytes` is not buffered: its
 *   topic and packet id are kept, its body is discarded as it arrives, and the broker receives
 *   the same PUBLISH with a short marker as payload. The broker then acknowledges and refuses
 *   it like any other bad message, so a device resending it after a reconnect is not locked out;
 * - any other packet over `maxControlBytes` closes the connection.
 *
 * Everything else passes through unchanged, slice by slice, without copying.
 */
export class GuardedConnection extends Duplex {
  // The two states every packet passes through are kept and reused, not made anew per packet:
  // a busy device sends thousands of packets a second, and each object would be garbage.
  private readonly atHeader: Extract<State, { at: 'header' }> = { at: 'header', bytes: [] };
  private readonly passing: Extract<State, { at: 'pass' }> = { at: 'pass', left: 0 };
  private state: State = this.atHeader;
  private authenticated = false;
  private sawFirstPacket = false;
  private preAuthBytes = 0;

  constructor(
    readonly inner: Duplex,
    /** The client's address, for limits kept per address. */
    readonly address: string,
    private readonly limits: GuardLimits,
    private readonly onViolation: (violation: GuardViolation) => void,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => this.scan(chunk));
    // The client finished sending: what it sent is still read to the end (a device that sends
    // QoS 0 messages and disconnects loses none of them); then the broker closes the connection.
    inner.once('end', () => this.push(null));
    inner.on('error', (error: Error) => this.destroy(error));
    // The broker waits for 'drain' here when a write (made straight to the inner stream) returns false.
    inner.on('drain', () => this.emit('drain'));
    inner.once('close', () => {
      if (!this.readableEnded && !this.destroyed) this.push(null);
    });
  }

  /** The broker accepted the client's CONNECT: from now on the post-authentication limits apply. */
  markAuthenticated(): void {
    if (this.authenticated) return;
    this.authenticated = true;
    this.emit('authenticated');
  }

  override _read(): void {
    this.inner.resume();
  }

  /**
   * What the broker writes goes straight to the client's stream: the guard only reads. Going
   * through this Duplex's own writable side as well would buffer every PUBACK twice (mqtt-packet
   * corks each packet and uncorks on the next tick). The writable side still handles end() and
   * writes after the connection is closed, which then fail as streams do.
   */
  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    if (this.destroyed || this.writableEnded) return super.write(chunk, encoding as BufferEncoding, callback as (error?: Error | null) => void);
    return this.inner.write(chunk, encoding as BufferEncoding, callback as (error?: Error | null) => void);
  }

  override cork(): void {
    this.inner.cork();
  }

  override uncork(): void {
    this.inner.uncork();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.write(chunk)) callback();
    else this.inner.once('drain', () => callback());
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'binary', callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  private violate(violation: GuardViolation): void {
    this.onViolation(violation);
    this.destroy();
  }

  private forward(bytes: Buffer): void {
    if (bytes.length > 0 && !this.push(bytes)) this.inner.pause();
  }

  /**
   * Reads the chunk packet by packet. Packets that pass unchanged are forwarded as one slice of
   * the chunk per run (one push per chunk in the steady state, not two per packet); a header is
   * forwarded only once its packet is judged, so a refused one never reaches the broker.
   */
  private scan(chunk: Buffer): void {
    if (this.destroyed) return;
    if (!this.authenticated) {
      this.preAuthBytes += chunk.length;
      if (this.preAuthBytes > this.limits.preAuthMaxBytes) return this.violate('too_large');
    }
    let offset = 0;
    /** Where the run of bytes to forward unchanged began in this chunk (-1: no run). */
    let run = -1;
    /** Where the header being read began in this chunk (-1: in an earlier chunk). */
    let headerAt = this.state.at === 'header' && this.state.bytes.length > 0 ? -1 : 0;
    const flush = (end: number) => {
      if (run >= 0) this.forward(chunk.subarray(run, end));
      run = -1;
    };
    while (offset < chunk.length && !this.destroyed) {
      const state = this.state;
      switch (state.at) {
        case 'header': {
          if (state.bytes.length === 0) headerAt = offset;
          const byte = chunk[offset++]!;
          state.bytes.push(byte);
          // Fixed header: one byte of type and flags, then the remaining length in 1-4 bytes.
          if (state.bytes.length === 1) break;
          if ((byte & 0x80) !== 0) {
            // At most four length bytes: a fourth that says "more follows" is not MQTT.
            if (state.bytes.length === 5) return this.violate('malformed');
            break;
          }
          const verdict = this.packetStart(state.bytes);
          if (verdict === 'refused') return;
          if (verdict === 'keep') {
            flush(Math.max(headerAt, 0));
            break;
          }
          // Passed: the header joins the run. Its first bytes, if an earlier chunk held them, go first.
          if (headerAt < 0) {
            this.forward(Buffer.from(state.bytes.slice(0, state.bytes.length - offset)));
            run = 0;
          } else if (run < 0) run = headerAt;
          this.toPass(verdict);
          break;
        }
        case 'pass': {
          const take = Math.min(state.left, chunk.length - offset);
          if (run < 0) run = offset;
          offset += take;
          state.left -= take;
          if (state.left === 0) this.toHeader();
          break;
        }
        case 'keep': {
          const take = Math.min(state.need - state.kept.length, chunk.length - offset);
          for (let i = 0; i < take; i++) state.kept.push(chunk[offset + i]!);
          offset += take;
          if (state.kept.length === 2) {
            // The topic length is known: keep the topic and, with QoS 1 or 2, the packet id.
            const topicLength = (state.kept[0]! << 8) | state.kept[1]!;
            if (topicLength === 0) return this.violate('malformed');
            if (topicLength > this.limits.maxTopicBytes) return this.violate('too_large');
            state.need = 2 + topicLength + (((state.fixed >> 1) & 3) > 0 ? 2 : 0);
            if (state.need > state.length) return this.violate('malformed');
          }
          if (state.kept.length === state.need && state.need > 2) this.emitOversized(state);
          break;
        }
        case 'skip': {
          const take = Math.min(state.left, chunk.length - offset);
          offset += take;
          state.left -= take;
          if (state.left === 0) this.toHeader();
          break;
        }
      }
    }
    if (this.destroyed) return;
    // A header cut off by the chunk's end waits (in state.bytes) until its packet is judged.
    flush(this.state.at === 'header' && this.state.bytes.length > 0 ? headerAt : chunk.length);
  }

  private toHeader(): void {
    this.atHeader.bytes.length = 0;
    this.state = this.atHeader;
  }

  /** Passes a packet's remaining `length` bytes on (none: the next header follows). */
  private toPass(length: number): void {
    if (length === 0) return this.toHeader();
    this.passing.left = length;
    this.state = this.passing;
  }

  /** Judges a packet by its fixed header: refused (the connection is closed), kept (oversized PUBLISH) or passed (its remaining length). */
  private packetStart(header: number[]): 'refused' | 'keep' | number {
    const fixed = header[0]!;
    let length = 0;
    for (let i = header.length - 1; i >= 1; i--) length = length * 128 + (header[i]! & 0x7f);
    const type = fixed >> 4;
    if (!this.sawFirstPacket) {
      this.sawFirstPacket = true;
      if (type !== CONNECT) return this.refuse('not_connect_first');
      if (length > this.limits.preAuthMaxBytes) return this.refuse('too_large');
      // Only now is the connection worth a broker client: one that announces a CONNECT it may send.
      this.emit('connect-announced');
    }
    if (!this.authenticated) {
      if (length > this.limits.preAuthMaxBytes) return this.refuse('too_large');
    } else if (type === PUBLISH && length > this.limits.maxPayloadBytes + this.limits.maxTopicBytes + 4) {
      this.state = { at: 'keep', fixed, length, kept: [], need: 2 };
      return 'keep';
    } else if (type !== PUBLISH && length > this.limits.maxControlBytes) {
      return this.refuse('too_large');
    }
    return length;
  }

  private refuse(violation: GuardViolation): 'refused' {
    this.violate(violation);
    return 'refused';
  }

  /** The PUBLISH as the broker will see it: same topic, flags and id, a marker for a payload. */
  private emitOversized(state: Extract<State, { at: 'keep' }>): void {
    const payloadBytes = state.length - state.need;
    const body = Buffer.concat([Buffer.from(state.kept), OVERSIZED_MARKER, Buffer.from(String(payloadBytes))]);
    this.forward(Buffer.concat([Buffer.from([state.fixed]), encodeLength(body.length), body]));
    if (payloadBytes === 0) this.toHeader();
    else this.state = { at: 'skip', left: payloadBytes };
  }
}

/**
 * How many connections from each address have not authenticated yet. A cap per address keeps
 * one host from holding thousands of half-open connections (each with its buffers and timers).
 */
export class PendingConnections {
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly maxPerAddress: number) {}

  /** Counts a new connection in; false when the address already has its quota pending. */
  admit(address: string): boolean {
    const count = this.byAddress.get(address) ?? 0;
    if (this.maxPerAddress > 0 && count >= this.maxPerAddress) return false;
    this.byAddress.set(address, count + 1);
    return true;
  }

  /** The connection authenticated or closed: it no longer counts. */
  release(address: string): void {
    const count = (this.byAddress.get(address) ?? 1) - 1;
    if (count <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, count);
  }

  pending(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }
}
