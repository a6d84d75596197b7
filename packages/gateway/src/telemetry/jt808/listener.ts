import { createServer, type Server } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { CivicLoopError, type BadgeCommand, type Device, type PositionRecord, type WithdrawalReason } from '@civicloop/model';
import { DeviceStateStore } from '../../store/device-state-store.js';
import type { Services } from '../../core/services.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { DeviceOutbox } from '../../store/device-outbox.js';
import type { TelemetryPipeline, TelemetrySource } from '../pipeline.js';
import { Jt808Connection, type Jt808Config, type Jt808Context } from './connection.js';
import { normalizeTerminal } from '../../store/device-store.js';
import { alarmFlags } from './location.js';
import {
  MESSAGE_IDS,
  REGISTER_RESULT,
  RESULT,
  alarmConfirmationMessage,
  authCodeOf,
  questionMessage,
  registerAnswer,
  textMessage,
  type QuestionAnswer,
} from './message.js';
import { cameraCommand } from './multimedia.js';
import type { TerminalPhotos } from './photos.js';
import { DEFAULT_LOCATE_TIMEOUT_MS } from '../locate-by-command.js';
import { DriverCards } from '../driver-cards.js';
import type { AssignmentAnswer } from '../assignment.js';
import type { BadgeEventHandler } from '../badge-events.js';

export interface Jt808Options {
  services: Services;
  devices: DeviceStore;
  pipeline: TelemetryPipeline;
  counters: TenantCounters;
  config: Jt808Config;
  log: FastifyBaseLogger;
  /** Where commands wait until the terminal confirms them. */
  outbox: DeviceOutbox;
  /** Attendance: a driver's IC card checks them in and out (driver-cards.ts). */
  badgeEvents: BadgeEventHandler;
  /**
   * The driver answered an assignment's question on the terminal: accept the ticket, or give it
   * back, as the vehicle's driver. Throws the loop's refusal (not theirs, no longer dispatched).
   */
  onAssignmentAnswer?: (tenantId: string, device: Device, ticketId: string, answer: AssignmentAnswer) => Promise<void>;
  /** Where the photos terminals upload go (photos.ts); without it they are set aside, not kept. */
  photos?: TerminalPhotos;
}

/** What a driver may answer an assignment with on the terminal, under the answer ids the question offers. */
const ANSWERS: readonly (QuestionAnswer & { answer: AssignmentAnswer })[] = [
  { id: 1, text: '接单', answer: 'accept' },
  { id: 2, text: '退回', answer: 'return' },
];

/** What a connection asks of the listener: the registry, the pipeline, the outbox. */
export interface RunningJt808 {
  port: number;
  /** Whether a terminal of this device is connected and authenticated here. */
  holds(tenantId: string, deviceId: string): boolean;
  /** Sends what waits in the terminal's outbox, if it is connected here; false if it is not. */
  deliverWaiting(tenantId: string, deviceId: string): Promise<boolean>;
  locate(tenantId: string, device: Device, timeoutMs?: number): Promise<PositionRecord>;
  disconnect(tenantId: string, deviceId: string): boolean;
  /** The device's record as it now is, for its terminal's connection here (if it has one) to go on with. */
  refresh(tenantId: string, device: Device): void;
  close(): Promise<void>;
}

/** The commands a terminal shows on its screen (as a question or a text message). */
type ScreenCommand = Extract<BadgeCommand, { type: 'assignment' | 'withdrawal' | 'rework' }>;
/** The commands sent from a terminal's outbox: a location request is asked as a query instead. */
type OutboxCommand = Exclude<BadgeCommand, { type: 'report_location' }>;

// A terminal is not told of its own resolution (only OwnTracks phones are); the text is there for completeness.
const WITHDRAWN_BECAUSE: Record<WithdrawalReason, string> = { reassigned: '已改派', returned: '已退回', merged: '已合并', resolved: '已办结' };

/**
 * What a terminal's screen shows (and its TTS reads) for an assignment, for its withdrawal, or for
 * a ticket sent back for rework (返工) with what the supervisor found still wrong.
 */
export function commandText(command: ScreenCommand): string {
  if (command.type === 'withdrawal') return `撤单 ${command.number} ${WITHDRAWN_BECAUSE[command.reason]},无需前往`;
  const where = command.location.address ? ` 地址:${command.location.address}` : '';
  const by = command.resolveBy ? ` 限时:${new Date(command.resolveBy).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })}` : '';
  if (command.type === 'rework') return `返工 ${command.number} 核查未通过:${command.note}${where}${by}`;
  return `派单 ${command.number} ${command.description}${where}${by}`;
}

/**
 * The JT/T 808 listener: a way into the telemetry pipeline for vehicle terminals and badges that
 * speak JT/T 808 over TCP. A terminal registered over HTTP (protocol jt808, its terminal number)
 * registers once over JT/T 808 (0x0100) and is given its authentication code (0x8100); it then
 * authenticates (0x0102) at every connection. Positions are answered (0x8001) only once stored.
 */
// Long: it starts the listeners and wires them together; the handle it returns closes over what it started, so they share one scope.
export async function startJt808Listener(options: Jt808Options): Promise<RunningJt808> {
  const { services, devices, pipeline, counters, config, log, outbox } = options;
  const { addressLimits } = services;
  const deviceState = new DeviceStateStore(services.redis);
  const connections = new Set<Jt808Connection>();
  const sessions = new Map<string, Jt808Connection>();
  const sessionKey = (tenantId: string, deviceId: string) => `${tenantId}/${deviceId}`;

  /**
   * An assignment goes as a question (0x8302) the driver answers on the screen, 接单 or 退回, unless
   * the terminal said it takes no questions; a withdrawal and a rework, and then assignments too, as text; an
   * alarm confirmation as the manual confirmation (0x8203), after which the terminal clears those
   * alarm bits and its next SOS is seen again; a request for a photo as a camera command (0x8801).
   */
  const deliver = async (connection: Jt808Connection, id: string, command: OutboxCommand, asText = connection.questionsRefused) => {
    if (command.type === 'alarm_confirmation') {
      await connection.sendCommand(MESSAGE_IDS.alarmConfirmation, alarmConfirmationMessage(alarmFlags(command.alarms)), id);
      return;
    }
    if (command.type === 'take_photo') {
      await connection.sendCommand(MESSAGE_IDS.cameraCommand, cameraCommand(command.channel), id);
      return;
    }
    const urgent = (command.type === 'assignment' || command.type === 'rework') && command.priority === 'urgent';
    if (command.type === 'assignment' && !asText) return connection.ask(questionMessage(commandText(command), ANSWERS, urgent), id, command.ticketId);
    await connection.sendCommand(MESSAGE_IDS.text, textMessage(connection.version, commandText(command), urgent), id);
  };
  /** Sends the terminal what waits for it, oldest first, except what this connection has already sent and awaits confirmation of. */
  const sendWaiting = async (connection: Jt808Connection, source: TelemetrySource) => {
    for (const entry of await outbox.waiting(source.tenantId, source.device)) {
      if (connection.closed || connection.hasSent(entry.id)) continue;
      if (entry.command.type !== 'report_location') await deliver(connection, entry.id, entry.command);
      else {
        // A location request given on another gateway: asked as a location query (0x8201), whose
        // answer is stored like any position, where whoever asked reads it.
        await outbox.confirm(source.tenantId, source.device, entry.id);
        connection
          .locate(DEFAULT_LOCATE_TIMEOUT_MS)
          .catch((error: unknown) => log.debug({ err: error, device: source.device.id }, 'location query unanswered'));
      }
    }
  };

  const driverCards = new DriverCards(services, devices, options.badgeEvents);
  const context: Jt808Context = {
    config,
    async questionRefused(connection, entryId) {
      const source = connection.source;
      if (source) await deviceState.noteRefusesQuestions(source.tenantId, source.device.id);
      const entry = source && (await outbox.waiting(source.tenantId, source.device)).find((e) => e.id === entryId);
      if (entry && entry.command.type === 'assignment') await deliver(connection, entry.id, entry.command, true);
    },
    questionAsked: (source, serial, ticketId) => deviceState.rememberQuestion(source.tenantId, source.device.id, serial, ticketId),
    async earlierQuestion(source, serial) {
      return (await deviceState.askedQuestions(source.tenantId, source.device.id)).find((asked) => asked.serial === serial)?.ticketId;
    },
    async answered(source, ticketId, answerId) {
      const answer = ANSWERS.find((a) => a.id === answerId)?.answer;
      if (!answer || !options.onAssignmentAnswer) return RESULT.failure;
      try {
        await options.onAssignmentAnswer(source.tenantId, source.device, ticketId, answer);
        return RESULT.ok;
      } catch (error) {
        if (!(error instanceof CivicLoopError) || error.retryable) throw error;
        // Not the driver's, or no longer waiting for them: told "failure", and kept on the device's tally.
        await pipeline.refuse(source, 'refused_by_loop', error.message);
        return RESULT.failure;
      }
    },
    driverCard: (source, card) => driverCards.report(source.tenantId, source.device, card),
    async photo(source, upload) {
      if (options.photos) return options.photos.keep(source, upload, new Date());
      await pipeline.ingest(source, { type: 'ignored', reason: 'unused_type', detail: 'photos are not kept by this gateway' });
      return 'set_aside';
    },
    counters,
    pipeline,
    async register(connection, header) {
      // An address past its failed-login limit registers nothing (a known terminal authenticates with its code).
      if (connection.address && addressLimits.isBlocked(connection.address)) {
        counters.jt808Unattributed.refusedRegistrations++;
        return connection.close();
      }
      const terminal = normalizeTerminal(header.terminal);
      const found = await devices.byTerminal(terminal);
      if (!found || found.device.disabled) {
        counters.jt808Unattributed.refusedRegistrations++;
        if (connection.address) await addressLimits.noteAuthFailure(connection.address).catch(() => undefined);
        await connection.send(MESSAGE_IDS.registerAnswer, registerAnswer(header.serial, REGISTER_RESULT.noSuchTerminal));
        return;
      }
      const code = await devices.registerTerminal(found.tenantId, found.device.id, terminal);
      if (!code) {
        // Registered before: the terminal must use the code it was given. Rotating the device's
        // credential over HTTP lets it register afresh (a terminal that lost its code).
        counters.of(found.tenantId).refusedConnects++;
        await connection.send(MESSAGE_IDS.registerAnswer, registerAnswer(header.serial, REGISTER_RESULT.terminalRegistered));
        return;
      }
      await connection.send(MESSAGE_IDS.registerAnswer, registerAnswer(header.serial, REGISTER_RESULT.ok, code));
    },
    async authenticate(connection, header, body) {
      const address = connection.address;
      const code = authCodeOf(header, body);
      // An address past its failed-login limit is refused without a lookup, except a code that
      // logged in within a day (DeviceStore.verifiedRecently).
      if (address && addressLimits.isBlocked(address) && !(code && devices.verifiedRecently(code))) {
        counters.jt808Unattributed.refusedAuthentications++;
        await connection.answer(header, RESULT.failure);
        return connection.close();
      }
      const result = code ? await devices.login(code) : ({ refused: 'unknown' } as const);
      const terminal = normalizeTerminal(header.terminal);
      if ('refused' in result || result.device.protocol !== 'jt808' || normalizeTerminal(result.device.terminalId ?? '') !== terminal) {
        if ('login' in result) counters.of(result.login.tenantId).refusedConnects++;
        else if ('tenantId' in result && result.tenantId) counters.of(result.tenantId).refusedConnects++;
        else counters.jt808Unattributed.refusedAuthentications++;
        if (address) await addressLimits.noteAuthFailure(address).catch(() => undefined);
        return connection.answer(header, RESULT.failure);
      }
      const { tenantId } = result.login;
      const source: TelemetrySource = { tenantId, device: result.device, counters: counters.of(tenantId) };
      connection.authenticated(source);
      // A terminal that once answered a question "not supported" is asked none again; one that
      // was asked some goes on numbering after the last, so that an answer to it still counts.
      const [refusesQuestions, lastAsked] = await Promise.all([
        deviceState.refusesQuestions(tenantId, result.device.id),
        deviceState.lastQuestionSerial(tenantId, result.device.id),
      ]);
      connection.questionsRefused = refusesQuestions;
      if (lastAsked !== undefined) connection.continueSerialsAfter(lastAsked);
      source.counters.connections++;
      const key = sessionKey(tenantId, result.device.id);
      // A terminal that connects again replaces its older connection.
      const older = sessions.get(key);
      if (older && older !== connection) older.close();
      sessions.set(key, connection);
      await connection.answer(header, RESULT.ok);
      await pipeline.ingest(source, { type: 'status', state: 'online' });
      // Commands it has not confirmed yet, oldest first.
      await sendWaiting(connection, source);
    },
    async confirmCommand(source, entryId) {
      await outbox.confirm(source.tenantId, source.device, entryId);
    },
    closed(connection) {
      connections.delete(connection);
      const source = connection.source;
      if (!source) return;
      const key = sessionKey(source.tenantId, source.device.id);
      if (sessions.get(key) !== connection) return;
      sessions.delete(key);
      void deviceState.markOffline(source.tenantId, source.device.id).catch(() => undefined);
    },
  };

  // A connection from an address past its failed-login limit is taken all the same: only its
  // authentication can say whether it is a terminal this gateway let in before (above).
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    connections.add(new Jt808Connection(socket, context, log));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CivicLoopError(
              'CL_ERR_PORT_IN_USE',
              `Port ${config.port} on ${config.host} is taken; set JT808_PORT to a free port (for example ` +
                `JT808_PORT=${config.port + 1}), or JT808_PORT=0 to turn the JT/T 808 listener off.`,
            )
          : error,
      ),
    );
    server.listen(config.port, config.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : config.port);
    });
  });

  const connected = (tenantId: string, device: Device): Jt808Connection => {
    const connection = sessions.get(sessionKey(tenantId, device.id));
    if (!connection || connection.closed)
      throw new CivicLoopError(
        'CL_ERR_DEVICE_UNREACHABLE',
        `Terminal ${device.id} is not connected to this gateway's JT/T 808 listener; ask again when it is online.`,
      );
    return connection;
  };

  return {
    port,
    holds(tenantId, deviceId) {
      const connection = sessions.get(sessionKey(tenantId, deviceId));
      return !!connection && !connection.closed && !!connection.source;
    },
    async deliverWaiting(tenantId, deviceId) {
      const connection = sessions.get(sessionKey(tenantId, deviceId));
      if (!connection || connection.closed || !connection.source) return false;
      await sendWaiting(connection, connection.source);
      return true;
    },
    async locate(tenantId, device, timeoutMs = DEFAULT_LOCATE_TIMEOUT_MS) {
      try {
        return await connected(tenantId, device).locate(timeoutMs);
      } catch (error) {
        if (error instanceof CivicLoopError) throw error;
        throw new CivicLoopError('CL_ERR_DEVICE_TIMEOUT', `Terminal ${device.id} did not answer the location query: ${(error as Error).message}.`);
      }
    },
    disconnect(tenantId, deviceId) {
      const connection = sessions.get(sessionKey(tenantId, deviceId));
      connection?.close();
      return connection !== undefined;
    },
    refresh(tenantId, device) {
      const source = sessions.get(sessionKey(tenantId, device.id))?.source;
      if (source) source.device = device;
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.close();
      await closing;
    },
  };
}
