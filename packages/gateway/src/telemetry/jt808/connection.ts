import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_DECODE_LIMITS, timeCheck, type Device, type PositionRecord } from '@civicloop/model';
import type { IngestOutcome, TelemetrySource } from '../pipeline.js';
import { decodeDriverCard, type DriverCard } from './driver-card.js';
import { FrameSplitter, frame, unframe } from './frame.js';
import { decodeBatch, decodeLocation } from './location.js';
import { decodeCameraAnswer, decodeMultimediaUpload, multimediaAnswer, type MultimediaUpload } from './multimedia.js';
import { MESSAGE_IDS, RESULT, buildMessage, generalResponse, parseMessage, timeAnswer, type Header, type Message } from './message.js';
import type { GatewayConfig } from '../../core/config.js';
import type { TenantCounters } from '../counters.js';
import type { TelemetryPipeline } from '../pipeline.js';

export type Jt808Config = Pick<GatewayConfig, 'host' | 'jt808AuthTimeoutMs' | 'jt808IdleSeconds' | 'jt808MaxMessageBytes'> & { port: number };

/** What a connection asks of its listener (registration, authentication, the pipeline). */
export interface Jt808Context {
  config: Jt808Config;
  counters: TenantCounters;
  pipeline: TelemetryPipeline;
  register(connection: Jt808Connection, header: Header): Promise<void>;
  authenticate(connection: Jt808Connection, header: Header, body: Buffer): Promise<void>;
  confirmCommand(source: TelemetrySource, entryId: string): Promise<void>;
  /** The terminal does not take questions (it answered a 0x8302 "not supported"): the entry is to be sent another way. */
  questionRefused(connection: Jt808Connection, entryId: string): Promise<void>;
  /** A question (0x8302) about a ticket was written to the terminal under `serial`: remembered for its answer on any connection. */
  questionAsked(source: TelemetrySource, serial: number, ticketId: string): Promise<void>;
  /** The ticket of the question asked under `serial` on an earlier connection (through any gateway), if one was. */
  earlierQuestion(source: TelemetrySource, serial: number): Promise<string | undefined>;
  /** The driver chose an answer to the question about a ticket (0x0302); the result to answer with. */
  answered(source: TelemetrySource, ticketId: string, answerId: number): Promise<number>;
  /** A driver's IC card put in or taken out (0x0702, decoded and read); the device as it now is. */
  driverCard(source: TelemetrySource, card: Exclude<DriverCard, { status: 'unread' }>): Promise<Device>;
  /** A whole multimedia upload (0x0801): kept if it is a readable JPEG photo, set aside if it is other media (photos.ts). */
  photo(source: TelemetrySource, upload: MultimediaUpload): Promise<'kept' | 'set_aside' | 'unreadable'>;
  closed(connection: Jt808Connection): void;
}

/** The largest escaped frame: a full 1023-byte body and the longest header, every byte escaped. */
const MAX_FRAME_BYTES = 2 * (1023 + 21 + 1);
/** Split messages one connection may be putting together at once. */
const MAX_OPEN_SPLITS = 4;
/** Questions one connection remembers, for the driver's answers to them (a terminal keeps a few on screen). */
const MAX_QUESTIONS = 64;
/** Location queries one connection may have waiting for their answers. */
const MAX_OPEN_QUERIES = 8;
/**
 * Location reports one connection may have being stored at once. Terminals send reports without
 * waiting for each answer (a blind-area backlog comes as fast as TCP takes it); storing them
 * together lets the position writer batch them with other connections', as MQTT QoS 1 does with
 * its in-flight window.
 */
const MAX_REPORTS_IN_FLIGHT = 32;

interface Split {
  total: number;
  /** Grew past JT808_MAX_MESSAGE_BYTES: its remaining parts are answered with a failure. */
  refused: boolean;
  parts: Map<number, Buffer>;
  serials: number[];
  bytes: number;
}

interface OpenQuery {
  resolve(record: PositionRecord): void;
  reject(error: Error): void;
}

/**
 * One terminal's TCP connection. Frames are taken in order (the socket is paused while a chunk's
 * frames are taken). Location reports (0x0200, 0x0704) from an authenticated terminal are stored
 * concurrently, up to MAX_REPORTS_IN_FLIGHT, each answered once stored; any other message waits
 * until those are done, and holds back what follows it. So a terminal that sends faster than its
 * positions are stored waits, and what a connection holds stays bounded: one unfinished frame,
 * a few unfinished split messages of at most JT808_MAX_MESSAGE_BYTES, a few open location
 * queries, and the reports in flight.
 */
export class Jt808Connection {
  /** Set once the terminal has authenticated (0x0102). */
  source: TelemetrySource | undefined;
  /** The header version and terminal number to answer with: the terminal's own. */
  private peer: Pick<Header, 'version' | 'terminal' | 'protocolVersion'> | undefined;
  private serial = 0;
  private readonly splitter = new FrameSplitter(MAX_FRAME_BYTES);
  private readonly splits = new Map<number, Split>();
  private readonly queries = new Map<number, OpenQuery>();
  /** Platform serial -> outbox entry id, for the terminal's 0x0001 confirmations. */
  private readonly sentCommands = new Map<number, { entryId: string; messageId: number }>();
  /**
   * The tickets of the questions asked on this connection (0x8302), by serial, the newest
   * MAX_QUESTIONS: its answers need no lookup. Those asked before it are in Redis (earlierQuestion).
   */
  private readonly questions = new Map<number, string>();
  /** Whether the terminal answered a question "not supported": then it is sent none again. */
  questionsRefused = false;
  /** Outbox entries being written now, before their serial is known. */
  private readonly sendingCommands = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly reportsInFlight = new Set<Promise<void>>();
  private authTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly context: Jt808Context,
    private readonly log: FastifyBaseLogger,
  ) {
    this.authTimer = setTimeout(() => {
      this.context.counters.jt808Unattributed.timedOut++;
      this.close();
    }, context.config.jt808AuthTimeoutMs);
    this.touch();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => log.debug({ err: error.message }, 'jt808 socket error'));
    socket.on('close', () => this.onClose());
  }

  /** The header version the terminal speaks, and is answered in. */
  get version(): 2013 | 2019 {
    return this.peer?.version ?? 2013;
  }

  get address(): string | undefined {
    return this.socket.remoteAddress;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.context.counters.jt808Unattributed.timedOut++;
      this.close();
    }, this.context.config.jt808IdleSeconds * 1000);
  }

  private onData(chunk: Buffer): void {
    this.touch();
    const { frames, tooLong } = this.splitter.push(chunk);
    if (tooLong > 0) this.countBadFrame(tooLong, 'a frame longer than any JT/T 808 frame');
    if (frames.length === 0) return;
    this.socket.pause();
    this.queue = this.queue
      .then(async () => {
        for (const escaped of frames) {
          if (this.closed) return;
          // Most frames (reports while few are in flight) need no waiting: no promise turn for those.
          const waiting = this.onFrame(escaped);
          if (waiting) await waiting;
        }
      })
      .catch((error: unknown) => this.notStored(error))
      .finally(() => {
        if (!this.closed) this.socket.resume();
      });
  }

  /**
   * Storing failed (Redis unreachable): no answer was sent for the message, so the terminal sends
   * it again; close, as the MQTT side does, so it reconnects and does so soon.
   */
  private notStored(error: unknown): void {
    if (this.closed) return;
    this.log.warn({ err: error, terminal: this.peer?.terminal }, 'jt808 message not stored; closing so the terminal resends');
    this.close();
  }

  private countBadFrame(count: number, detail: string): undefined {
    if (this.source) for (let i = 0; i < count; i++) this.source.counters.reject('bad_frame');
    else this.context.counters.jt808Unattributed.badFrames += count;
    this.log.debug({ terminal: this.peer?.terminal, detail }, 'jt808 frame refused');
  }

  /** Takes one frame; a promise when what follows it must wait (see dispatch). */
  private onFrame(escaped: Buffer): Promise<void> | undefined {
    const unframed = unframe(escaped);
    if (!unframed.ok) return this.countBadFrame(1, unframed.fault);
    const parsed = parseMessage(unframed.message);
    if (!parsed.ok) return this.countBadFrame(1, parsed.fault);
    const { header } = parsed.message;
    if (this.peer && this.peer.terminal !== header.terminal)
      return this.countBadFrame(1, `terminal ${header.terminal} on the connection of ${this.peer.terminal}`);
    this.peer ??= {
      version: header.version,
      terminal: header.terminal,
      ...(header.protocolVersion !== undefined ? { protocolVersion: header.protocolVersion } : {}),
    };
    if (header.encryption !== 0) return this.answer(header, RESULT.notSupported);
    if (!header.part) return this.dispatch(parsed.message, [header.serial]);
    const whole = this.join(parsed.message);
    return whole ? this.dispatch(whole.message, whole.serials) : undefined;
  }

  /**
   * A report is stored alongside the others in flight (the next frame waits only when
   * MAX_REPORTS_IN_FLIGHT are); anything else waits for them first. Reports take as few promise
   * turns as they can: a busy connection sends thousands a second.
   */
  private dispatch(message: Message, serials: number[]): Promise<void> | undefined {
    const { id } = message.header;
    const source = this.source;
    if (source && (id === MESSAGE_IDS.location || id === MESSAGE_IDS.batchLocation)) {
      const storing: Promise<void> = this.onReport(source, message, serials).then(
        () => {
          this.reportsInFlight.delete(storing);
        },
        (error: unknown) => {
          this.reportsInFlight.delete(storing);
          this.notStored(error);
        },
      );
      this.reportsInFlight.add(storing);
      return this.reportsInFlight.size >= MAX_REPORTS_IN_FLIGHT ? Promise.race(this.reportsInFlight) : undefined;
    }
    return Promise.all(this.reportsInFlight).then(() => this.onMessage(message, serials));
  }

  /** A location report (0x0200) or batch (0x0704) from an authenticated terminal: stored, then each part answered. */
  private onReport(source: TelemetrySource, { header, body }: Message, serials: number[]): Promise<void> {
    let bodies: Buffer[] = [body];
    if (header.id === MESSAGE_IDS.batchLocation) {
      const batch = decodeBatch(body);
      if (!batch.ok) return this.context.pipeline.refuse(source, 'schema', batch.detail).then(() => this.reply(header, serials, RESULT.messageError));
      bodies = batch.items;
    }
    return this.storeLocations(source, bodies).then((result) => this.reply(header, serials, result));
  }

  /** Puts a split message together; the whole of it once its last part is in. */
  private join({ header, body }: Message): { message: Message; serials: number[] } | undefined {
    const part = header.part!;
    let split = this.splits.get(header.id);
    // A first part, or a different total, starts a new message of this id.
    if (!split || split.total !== part.total || (part.index === 1 && split.refused)) {
      if (!split && this.splits.size >= MAX_OPEN_SPLITS) this.splits.delete(this.splits.keys().next().value!);
      split = { total: part.total, parts: new Map(), serials: [], bytes: 0, refused: false };
      this.splits.set(header.id, split);
    }
    if (split.refused) {
      void this.answer(header, RESULT.failure);
      return undefined;
    }
    if (!split.parts.has(part.index)) {
      split.bytes += body.length;
      if (split.bytes > this.context.config.jt808MaxMessageBytes) {
        // The rest of this message is refused as it comes, without being kept.
        split.parts.clear();
        split.refused = true;
        if (this.source) this.source.counters.reject('too_large');
        else this.context.counters.jt808Unattributed.tooLarge++;
        void this.answer(header, RESULT.failure);
        return undefined;
      }
      split.parts.set(part.index, body);
    }
    split.serials.push(header.serial);
    if (split.parts.size < split.total) return undefined;
    this.splits.delete(header.id);
    const ordered = [...split.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
    const { part: _part, ...whole } = header;
    return { message: { header: { ...whole, serial: split.serials[0]! }, body: Buffer.concat(ordered) }, serials: split.serials };
  }

  /** A whole message; `serials` are those of its parts, each answered once it is handled. */
  private async onMessage(message: Message, serials: number[]): Promise<void> {
    const { header, body } = message;
    const answerAll = (result: number) => Promise.all(serials.map((serial) => this.answer({ ...header, serial }, result))).then(() => undefined);
    switch (header.id) {
      case MESSAGE_IDS.register:
        return this.context.register(this, header);
      case MESSAGE_IDS.authenticate:
        return this.context.authenticate(this, header, body);
      case MESSAGE_IDS.terminalResponse:
        return this.onTerminalResponse(body);
    }
    const source = this.source;
    if (!source) {
      // A terminal that believes it is still authenticated (after our restart) is told to do it again.
      this.context.counters.jt808Unattributed.unauthenticated++;
      return answerAll(RESULT.failure);
    }
    switch (header.id) {
      case MESSAGE_IDS.heartbeat:
        await this.context.pipeline.ingest(source, { type: 'status', state: 'online' });
        return answerAll(RESULT.ok);
      case MESSAGE_IDS.logout:
        await this.context.pipeline.ingest(source, { type: 'status', state: 'offline' });
        await answerAll(RESULT.ok);
        return this.close();
      case MESSAGE_IDS.timeQuery:
        await this.send(MESSAGE_IDS.timeAnswer, timeAnswer(new Date()));
        return;
      case MESSAGE_IDS.location:
      case MESSAGE_IDS.batchLocation:
        return this.onReport(source, message, serials);
      case MESSAGE_IDS.driverCard:
        return answerAll(await this.onDriverCard(source, body));
      case MESSAGE_IDS.questionAnswer:
        return answerAll(await this.onQuestionAnswer(source, body));
      case MESSAGE_IDS.multimediaData:
        return this.onMultimedia(source, body, answerAll);
      case MESSAGE_IDS.multimediaEvent:
        // It announces an upload to come (0x0801), which is what is kept.
        source.counters.messages++;
        return answerAll(RESULT.ok);
      case MESSAGE_IDS.cameraAnswer:
        return answerAll(await this.onCameraAnswer(source, body));
      case MESSAGE_IDS.locationAnswer: {
        const replySerial = body.length >= 2 ? body.readUInt16BE(0) : -1;
        const location = decodeLocation(body.subarray(2), source.device, Date.now(), DEFAULT_DECODE_LIMITS);
        // An answer is itself a position: stored like any other (the platform does not answer
        // it), before whoever asked is told.
        await this.storeLocations(source, [body.subarray(2)]);
        const query = this.queries.get(replySerial);
        this.queries.delete(replySerial);
        if (location.ok) query?.resolve(location.record);
        else query?.reject(new Error(location.detail));
        return;
      }
      default:
        source.counters.messages++;
        source.counters.ignore('unused_type');
        return answerAll(RESULT.notSupported);
    }
  }

  /**
   * A driver's card report: acted on, then answered (0x8001) as a location report is, once what
   * it changes is stored; a card the terminal could not read is set aside (`card_unread`), a body
   * that is not a 0x0702 answered "message error".
   */
  private async onDriverCard(source: TelemetrySource, body: Buffer): Promise<number> {
    // A badge is worn, not driven: what it says of a card is not supported, as any unused message.
    if (source.device.kind !== 'vehicle') {
      await this.context.pipeline.ingest(source, { type: 'ignored', reason: 'unused_type', detail: 'a driver card report from a badge' });
      return RESULT.notSupported;
    }
    const card = decodeDriverCard(body);
    // A card's time is checked as a fix's is: one far ahead would make every later card look older.
    const refused = card
      ? timeCheck(card.at, Date.now(), DEFAULT_DECODE_LIMITS)
      : ({ type: 'rejected', reason: 'schema', detail: 'a 0x0702 body that is not a 2013 or 2019 driver card report' } as const);
    if (!card || refused?.type === 'rejected') {
      await this.context.pipeline.ingest(source, refused!);
      return RESULT.messageError;
    }
    if (card.status === 'unread') {
      await this.context.pipeline.ingest(source, { type: 'ignored', reason: 'card_unread', detail: card.failure });
      return RESULT.ok;
    }
    source.counters.messages++;
    source.counters.events++;
    // What the connection knows of its device (its driver) is what the store now has.
    source.device = await this.context.driverCard(source, card);
    return RESULT.ok;
  }

  /**
   * A whole multimedia upload (its parts put together): answered with its id (0x8800), which tells
   * the terminal it need send nothing again, once the photo is kept or the media set aside; a body
   * too short to be one, or a photo that cannot be read, "message error" for each part.
   */
  private async onMultimedia(source: TelemetrySource, body: Buffer, answerAll: (result: number) => Promise<void>): Promise<void> {
    const upload = decodeMultimediaUpload(body);
    if (!upload) {
      await this.context.pipeline.ingest(source, {
        type: 'rejected',
        reason: 'schema',
        detail: `a 0x0801 body has at least 8 bytes; this one has ${body.length}`,
      });
      return answerAll(RESULT.messageError);
    }
    if ((await this.context.photo(source, upload)) === 'unreadable') return answerAll(RESULT.messageError);
    await this.send(MESSAGE_IDS.multimediaAnswer, multimediaAnswer(upload.id));
  }

  /**
   * The terminal's answer to a camera command (0x0805: the command's serial, a result, the ids of
   * what it took): the command is confirmed, as a general response confirms other commands,
   * whatever the result (one that failed will not succeed by being sent again); the photos come as
   * uploads of their own.
   */
  private async onCameraAnswer(source: TelemetrySource, body: Buffer): Promise<number> {
    source.counters.messages++;
    const answer = decodeCameraAnswer(body);
    if (!answer) return RESULT.messageError;
    const sent = this.sentCommands.get(answer.serial);
    if (sent) {
      this.sentCommands.delete(answer.serial);
      await this.context.confirmCommand(source, sent.entryId);
    }
    return RESULT.ok;
  }

  /** Stores location bodies through the pipeline (refusing those that are not positions); the result to answer with. */
  private storeLocations(source: TelemetrySource, bodies: Buffer[]): Promise<number> {
    const now = Date.now();
    const records: PositionRecord[] = [];
    const refusals: Promise<IngestOutcome>[] = [];
    for (const body of bodies) {
      const location = decodeLocation(body, source.device, now, DEFAULT_DECODE_LIMITS);
      if (location.ok) records.push(location.record);
      else refusals.push(this.context.pipeline.refuse(source, location.reason, location.detail));
    }
    const stored =
      records.length === 0
        ? Promise.resolve(RESULT.messageError)
        : this.context.pipeline
            .ingest(source, { type: 'positions', records })
            .then((outcome) => (outcome.type === 'accepted' ? RESULT.ok : RESULT.messageError));
    return refusals.length === 0 ? stored : Promise.all([stored, ...refusals]).then(([result]) => result);
  }

  private async onTerminalResponse(body: Buffer): Promise<void> {
    if (body.length < 5) return;
    const replySerial = body.readUInt16BE(0);
    const sent = this.sentCommands.get(replySerial);
    if (!sent || !this.source) return;
    this.sentCommands.delete(replySerial);
    if (sent.messageId === MESSAGE_IDS.question && body[4] === RESULT.notSupported && body.readUInt16BE(2) === MESSAGE_IDS.question) {
      this.questionsRefused = true;
      this.questions.delete(replySerial);
      return this.context.questionRefused(this, sent.entryId);
    }
    // Any other answer means the terminal has the message (a failure result will not change by resending).
    await this.context.confirmCommand(this.source, sent.entryId);
  }

  /**
   * The driver's answer to a question (0x0302: the question's serial WORD, the answer's id BYTE),
   * handed on with the question's ticket. The question may have been asked on an earlier
   * connection: a terminal keeps it on screen across a loss of signal, and the driver answers when
   * they read it. One to a serial no question was asked under is answered "failure".
   */
  private async onQuestionAnswer(source: TelemetrySource, body: Buffer): Promise<number> {
    source.counters.messages++;
    if (body.length < 3) return RESULT.failure;
    const serial = body.readUInt16BE(0);
    const ticketId = this.questions.get(serial) ?? (await this.context.earlierQuestion(source, serial));
    if (!ticketId) return RESULT.failure;
    source.counters.events++;
    return this.context.answered(source, ticketId, body[2]!);
  }

  /**
   * Numbers this connection's messages on from `serial`, the last one a question was asked under
   * on an earlier connection: a question asked now does not take the serial of one the driver may
   * still answer (each connection would otherwise start again at 0).
   */
  continueSerialsAfter(serial: number): void {
    this.serial = (serial + 1) & 0xffff;
  }

  /** Sends a platform message; resolves with its serial once written to the socket. */
  send(id: number, body: Uint8Array): Promise<number> {
    return new Promise((resolve) => {
      let serial = -1;
      serial = this.write(id, body, () => resolve(serial));
      if (serial < 0) resolve(-1);
    });
  }

  /** Writes a platform message; its serial, or -1 when there is no one to write to. */
  private write(id: number, body: Uint8Array, written?: () => void): number {
    const peer = this.peer;
    if (!peer || this.closed) return -1;
    const serial = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    const bytes = frame(buildMessage(id, peer, serial, body));
    // Answers to reports stored in one batch are written in the same turn: one write for all.
    if (this.socket.writableCorked === 0) {
      this.socket.cork();
      process.nextTick(() => this.socket.uncork());
    }
    this.socket.write(bytes, written);
    return serial;
  }

  /** The general response (0x8001) to a message, once written to the socket. */
  answer(header: Header, result: number): Promise<void> {
    return this.send(MESSAGE_IDS.platformResponse, generalResponse(header.serial, header.id, result)).then(() => undefined);
  }

  /**
   * Answers each part of a message without waiting for the writes: the answers to stored reports.
   * The socket keeps them in order, and nothing after them depends on their having left.
   */
  private reply(header: Header, serials: number[], result: number): void {
    for (const serial of serials) this.write(MESSAGE_IDS.platformResponse, generalResponse(serial, header.id, result));
  }

  /** Whether this connection has sent the outbox entry and waits for the terminal to confirm it. */
  hasSent(entryId: string): boolean {
    if (this.sendingCommands.has(entryId)) return true;
    for (const sent of this.sentCommands.values()) if (sent.entryId === entryId) return true;
    return false;
  }

  /** Sends a command from the outbox, remembering it until the terminal confirms it; its serial (-1: not written). */
  async sendCommand(id: number, body: Uint8Array, entryId: string): Promise<number> {
    // Marked before the write: two deliveries of the same outbox at once must not both send it.
    this.sendingCommands.add(entryId);
    try {
      const serial = await this.send(id, body);
      if (serial >= 0) this.sentCommands.set(serial, { entryId, messageId: id });
      return serial;
    } finally {
      this.sendingCommands.delete(entryId);
    }
  }

  /** Asks the driver a question about a ticket (0x8302), from the outbox; the answer (0x0302) is handed on with the ticket. */
  async ask(body: Uint8Array, entryId: string, ticketId: string): Promise<void> {
    const serial = await this.sendCommand(MESSAGE_IDS.question, body, entryId);
    if (serial < 0 || !this.source) return;
    this.questions.set(serial, ticketId);
    if (this.questions.size > MAX_QUESTIONS) this.questions.delete(this.questions.keys().next().value!);
    await this.context.questionAsked(this.source, serial, ticketId);
  }

  /** Asks the terminal where it is (0x8201); resolves with its 0x0201 answer. */
  async locate(timeoutMs: number): Promise<PositionRecord> {
    if (this.queries.size >= MAX_OPEN_QUERIES) throw new Error('too many location queries waiting for this terminal');
    const serial = await this.send(MESSAGE_IDS.locationQuery, Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.queries.delete(serial);
        reject(new Error('timeout'));
      }, timeoutMs);
      this.queries.set(serial, {
        resolve: (record) => {
          clearTimeout(timer);
          resolve(record);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  authenticated(source: TelemetrySource): void {
    this.source = source;
    clearTimeout(this.authTimer);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    for (const query of this.queries.values()) query.reject(new Error('the terminal disconnected'));
    this.queries.clear();
    this.context.closed(this);
  }
}
