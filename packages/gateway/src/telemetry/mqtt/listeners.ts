import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Aedes } from 'aedes';
import { CivicLoopError } from '@civicloop/model';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { GuardedConnection, PendingConnections, type GuardLimits, type GuardViolation } from './connection-guard.js';
import type { TenantCounters } from '../counters.js';

export interface ListenerOptions {
  host: string;
  tcpPort: number;
  wsPort: number;
  limits: GuardLimits;
  /** A connection that has not authenticated by then is closed. */
  connectTimeoutMs: number;
  /** Connections one address may hold open before they authenticate (0: no cap). */
  maxPendingPerAddress: number;
  counters: TenantCounters;
}

export interface RunningListeners {
  tcpPort: number;
  wsPort: number;
  close(): Promise<void>;
}

/** The "not yet authenticated" state of one connection: a slot in its address's quota and a deadline. */
interface PendingSlot {
  release(): void;
}

const slotOf = Symbol('civicloop.pendingSlot');

function listen(server: TcpServer | HttpServer, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new CivicLoopError('CL_ERR_PORT_IN_USE', `Port ${port} on ${host} is taken; set ${variable} to a free port (for example ${variable}=${port + 1}).`)
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * The MQTT listeners, TCP and WebSocket. Before a client has authenticated it holds bounded
 * memory and time: a byte budget, a deadline, and a cap on how many such connections one
 * address may hold (see GuardedConnection); the broker only ever reads through the guard.
 */
// Long: it starts the listeners and wires them together; the handle it returns closes over what it started, so they share one scope.
export async function startMqttListeners(broker: Aedes, options: ListenerOptions): Promise<RunningListeners> {
  const { counters, limits } = options;
  const pending = new PendingConnections(options.maxPendingPerAddress);
  const tally = counters.closedByGuard;

  /** Takes a slot for a new socket, or closes it when its address has no slot left. */
  function admit(socket: Socket): PendingSlot | undefined {
    const address = socket.remoteAddress ?? 'unknown';
    if (!pending.admit(address)) {
      tally.tooManyPending++;
      socket.destroy();
      return undefined;
    }
    let held = true;
    const timer = setTimeout(() => {
      tally.timedOut++;
      socket.destroy();
    }, options.connectTimeoutMs);
    timer.unref();
    const slot: PendingSlot = {
      release() {
        if (!held) return;
        held = false;
        clearTimeout(timer);
        pending.release(address);
      },
    };
    socket.once('close', () => slot.release());
    return slot;
  }

  function guard(stream: Duplex, address: string, slot: PendingSlot, request?: IncomingMessage): void {
    const connection = new GuardedConnection(stream, address, limits, (violation: GuardViolation) => {
      if (violation === 'too_large') tally.tooLarge++;
      else if (violation === 'not_connect_first') tally.notConnectFirst++;
      else tally.malformed++;
    });
    connection.once('authenticated', () => slot.release());
    connection.once('close', () => slot.release());
    // The broker gets the connection once its first bytes announce an acceptable CONNECT: a flood
    // of connections that never do costs no broker client at all.
    connection.once('connect-announced', () => broker.handle(connection, request as never));
  }

  const tcp = createTcpServer((socket) => {
    const slot = admit(socket);
    if (slot) guard(socket, socket.remoteAddress ?? 'unknown', slot);
  });

  // WebSocket: the HTTP upgrade and the WebSocket frames are bounded too. ws holds a whole
  // message before handing it on, so its maxPayload bounds what one frame can make us buffer.
  const http = createHttpServer(
    { headersTimeout: options.connectTimeoutMs, requestTimeout: options.connectTimeoutMs, maxHeaderSize: 8192 },
    (_request, response) => {
      response
        .writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' })
        .end('MQTT over WebSocket: connect with a WebSocket client (subprotocol mqtt).\n');
    },
  );
  http.on('connection', (socket: Socket & { [slotOf]?: PendingSlot }) => {
    const slot = admit(socket);
    if (slot) socket[slotOf] = slot;
  });
  const wss = new WebSocketServer({ server: http, maxPayload: limits.maxPayloadBytes + limits.maxTopicBytes + 64 * 1024, perMessageDeflate: false });
  wss.on('connection', (socket, request) => {
    const slot = (request.socket as Socket & { [slotOf]?: PendingSlot })[slotOf];
    if (!slot) return socket.terminate();
    guard(createWebSocketStream(socket), request.socket.remoteAddress ?? 'unknown', slot, request);
  });
  wss.on('error', () => undefined);

  let tcpPort: number;
  let wsPort: number;
  try {
    tcpPort = await listen(tcp, options.tcpPort, options.host, 'MQTT_PORT');
    wsPort = await listen(http, options.wsPort, options.host, 'MQTT_WS_PORT');
  } catch (error) {
    tcp.close();
    http.close();
    throw error;
  }
  return {
    tcpPort,
    wsPort,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => http.close(() => r()))]);
    },
  };
}
