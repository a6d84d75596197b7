import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import aedesServerFactory from 'aedes-server-factory';
import type { FastifyBaseLogger } from 'fastify';
import { CivicLoopError, DEFAULT_DECODE_LIMITS, decodeTelemetry, nativeTopic, ownTracksTopic, parseTopic, type BadgeCommand, type Device, type ParsedTopic, type PositionRecord } from '@civicloop/model';
import type { GatewayConfig } from '../config.js';
import type { Services } from '../services.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { BadgeEventHandler } from './badge-events.js';
import { TenantCounters, type TelemetryCounters } from './counters.js';
import type { DeviceStore } from './device-store.js';
import type { PositionWriter } from './position-writer.js';

interface DeviceSession {
  tenantId: string;
  device: Device;
  /** How the device named itself at CONNECT: OwnTracks topics carry it. */
  username: string;
  counters: TelemetryCounters;
  /** The last topic published to and what it was found to be: a device keeps to one or two topics. */
  lastTopic?: { name: string; topic: ParsedTopic; allowed: true } | undefined;
}

/** Hooks other parts of the gateway attach to telemetry (arrival detection, live map). */
export interface TelemetryHooks {
  /**
   * Called with each device's stored positions, one call at a time per device. Returning nothing
   * (rather than a promise) says there was nothing to do, and the broker keeps no queue for it.
   */
  onPositions?: (tenantId: string, device: Device, records: PositionRecord[]) => Promise<void> | void;
}

export interface TelemetryOptions {
  services: Services;
  devices: DeviceStore;
  writer: PositionWriter;
  badgeEvents: BadgeEventHandler;
  config: Pick<GatewayConfig, 'mqttPort' | 'mqttWsPort' | 'host' | 'deviceOfflineSeconds' | 'telemetryMaxPayloadBytes'>;
  log: FastifyBaseLogger;
  hooks?: TelemetryHooks;
}

export interface RunningTelemetry {
  broker: Aedes;
  counters: TenantCounters;
  tcpPort: number;
  wsPort: number;
  /** Sends a command to a badge on its cmd topic (QoS 1). */
  sendCommand(tenantId: string, device: Device, command: BadgeCommand): Promise<void>;
  /** Resolves when what stored positions set off (arrival detection) has finished. */
  settled(): Promise<void>;
  /** Closes a device's live connection, if it is connected to this gateway. */
  disconnect(tenantId: string, deviceId: string): void;
  close(): Promise<void>;
}

const denied = (message: string, returnCode: 4 | 5): AuthenticateError => Object.assign(new Error(message), { returnCode }) as AuthenticateError;

function listen(server: TcpServer | HttpServer, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new CivicLoopError('CL_ERR_PORT_IN_USE', `Port ${port} on ${host} is taken; set ${variable} to a free port (for example ${variable}=${port + 1}).`) : error);
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
 * The embedded MQTT broker. Devices authenticate with their own credentials, may publish only
 * under their own topics and subscribe only to their own command topic. Telemetry is decoded and
 * stored before the broker acknowledges it (aedes sends PUBACK after authorizePublish), so an
 * acknowledged QoS 1 message is in Redis.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<RunningTelemetry> {
  const { devices, writer, badgeEvents, services, config, log, hooks } = options;
  const counters = new TenantCounters();
  const sessions = new Map<string, Client>();
  const limits = { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: config.telemetryMaxPayloadBytes };
  const sessionOf = (client: Client | null) => (client as (Client & { civicloop?: DeviceSession }) | null)?.civicloop;

  const broker = await Aedes.createBroker({
    // Telemetry is written to Redis, not queued for offline subscribers: keep aedes' own queues small.
    concurrency: 1000,
    maxClientsIdLength: 128,
    authenticate: (client, username, password, callback) => {
      const secret = password && password.length > 0 ? password.toString() : (username ?? '');
      devices.login(secret).then(
        (result) => {
          if ('refused' in result) {
            if ('tenantId' in result && result.tenantId) counters.of(result.tenantId).refusedConnects++;
            else counters.unattributedRefusedConnects++;
            return callback(result.refused === 'disabled' ? denied('device disabled', 5) : denied('bad credentials', 4), false);
          }
          // Username + password clients must name the device the secret belongs to.
          if (password && password.length > 0 && username !== result.device.id) {
            counters.of(result.login.tenantId).refusedConnects++;
            return callback(denied('username is not the device of this secret', 4), false);
          }
          (client as Client & { civicloop?: DeviceSession }).civicloop = { tenantId: result.login.tenantId, device: result.device, username: username ?? result.device.id, counters: counters.of(result.login.tenantId) };
          callback(null, true);
        },
        (error: unknown) => callback(Object.assign(error instanceof Error ? error : new Error(String(error)), { returnCode: 3 }) as AuthenticateError, false),
      );
    },
    authorizePublish: (client, packet, callback) => {
      const session = sessionOf(client);
      handlePublish(session, packet).then(
        () => callback(null),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const session = sessionOf(client);
      if (session && ownCommandTopics(session).includes(subscription.topic)) return callback(null, subscription);
      if (session) counters.of(session.tenantId).deniedSubscriptions++;
      // A null subscription is answered with SUBACK 0x80 (failure), as MQTT 3.1.1 says.
      callback(null, null as unknown as Subscription);
    },
  });

  const ownCommandTopics = (s: DeviceSession) => [nativeTopic(s.tenantId, s.device.kind, s.device.id, 'cmd'), ownTracksTopic(s.username, s.device.id, 'cmd'), ownTracksTopic(s.device.id, s.device.id, 'cmd')];

  /**
   * What stored positions set off (arrival detection) runs after the PUBACK, not before: the fix
   * is already safe in Redis, and the device should not wait for the loop to react to it. A
   * device's hooks run one after another, in the order its messages arrived, since arrival
   * detection reasons about a sequence of fixes.
   */
  const deviceQueues = new Map<string, Promise<void>>();
  function afterStored(tenantId: string, device: Device, records: PositionRecord[]): void {
    const hook = hooks?.onPositions;
    if (!hook) return;
    const key = `${tenantId}/${device.id}`;
    const previous = deviceQueues.get(key);
    let started: Promise<void> | void;
    if (previous) started = previous.then(() => hook(tenantId, device, records));
    else {
      try {
        started = hook(tenantId, device, records);
      } catch (error) {
        started = Promise.reject(error);
      }
      // Most positions set nothing off (a vehicle's, a badge with no job): no queue for those.
      if (!started) return;
    }
    const run: Promise<void> = started
      .catch((error: unknown) => log.warn({ err: error, device: device.id }, 'position hook failed'))
      .finally(() => {
        if (deviceQueues.get(key) === run) deviceQueues.delete(key);
      });
    deviceQueues.set(key, run);
  }
  const settled = async () => {
    while (deviceQueues.size > 0) await Promise.all([...deviceQueues.values()]);
  };

  /** What a topic is and whether this device may publish to it; remembered for its next publish. */
  function judgeTopic(session: DeviceSession, name: string): { topic: ParsedTopic; allowed: true } | { topic: undefined; allowed: false } {
    const { tenantId, device } = session;
    const topic = parseTopic(name);
    const allowed =
      topic &&
      (topic.format === 'thingsboard' ||
        (topic.format === 'native' && topic.tenantId === tenantId && topic.kind === device.kind && topic.deviceId === device.id) ||
        (topic.format === 'owntracks' && (topic.user === session.username || topic.user === device.id)));
    if (!allowed) return { topic: undefined, allowed: false };
    session.lastTopic = { name, topic, allowed: true };
    return session.lastTopic;
  }

  async function handlePublish(session: DeviceSession | undefined, packet: PublishPacket): Promise<void> {
    // The gateway's own commands (broker.publish) arrive here without a session.
    if (!session) {
      if (packet.topic.endsWith('/cmd')) return;
      throw new Error('publish without an authenticated device');
    }
    const { tenantId, device, counters: counted } = session;
    counted.messages++;
    const { topic, allowed } = session.lastTopic?.name === packet.topic ? session.lastTopic : judgeTopic(session, packet.topic);
    if (!allowed) {
      counted.deniedPublishes++;
      // MQTT 3.1.1 has no negative PUBACK: an unauthorised publish closes the connection.
      throw new Error(`device ${device.id} may not publish to ${packet.topic}`);
    }
    // Devices never leave retained messages behind on the broker.
    packet.retain = false;
    const decoded = decodeTelemetry(topic, packet.payload as Buffer, device, Date.now(), limits);
    switch (decoded.type) {
      case 'rejected':
        // Acknowledged and dropped: sending the same bytes again would not make them valid.
        counted.reject(decoded.reason);
        log.debug({ device: device.id, topic: packet.topic, reason: decoded.reason, detail: decoded.detail }, 'telemetry rejected');
        return;
      case 'positions': {
        const stored = await writer.write(tenantId, decoded.records);
        const fresh = decoded.records.filter((_, i) => stored[i]);
        counted.positionsStored += fresh.length;
        counted.duplicates += decoded.records.length - fresh.length;
        if (fresh.length > 0) afterStored(tenantId, device, fresh);
        return;
      }
      case 'event': {
        if (decoded.record) {
          const [stored] = await writer.write(tenantId, [decoded.record]);
          if (stored) afterStored(tenantId, device, [decoded.record]);
        }
        counted.events++;
        await badgeEvents.handle(tenantId, device, decoded.event, decoded.record);
        return;
      }
      case 'status':
        await services.redis.hset(tenantKeys(tenantId).deviceState(device.id), 'online', decoded.state === 'online' ? '1' : '0', 'lastSeen', String(Date.now()));
        return;
    }
  }

  broker.on('client', (client) => {
    const session = sessionOf(client);
    if (!session) return;
    counters.of(session.tenantId).connections++;
    const key = `${session.tenantId}/${session.device.id}`;
    // A device that connects again replaces its older connection.
    sessions.get(key)?.close();
    sessions.set(key, client);
  });
  broker.on('clientDisconnect', (client) => {
    const session = sessionOf(client);
    if (!session) return;
    const key = `${session.tenantId}/${session.device.id}`;
    if (sessions.get(key) === client) sessions.delete(key);
  });
  broker.on('clientError', (client, error) => log.debug({ client: client?.id, err: error.message }, 'mqtt client error'));

  const tcp = createTcpServer(broker.handle);
  const ws = aedesServerFactory.createServer(broker, { ws: true }) as HttpServer;
  let tcpPort: number;
  let wsPort: number;
  try {
    tcpPort = await listen(tcp, config.mqttPort, config.host, 'MQTT_PORT');
    wsPort = await listen(ws, config.mqttWsPort, config.host, 'MQTT_WS_PORT');
  } catch (error) {
    tcp.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }

  // Devices that went quiet are marked offline; any gateway may do it, it is idempotent. Each
  // pass looks only at devices that crossed the threshold since the previous pass (the first
  // pass, at start-up, at all of them), not at every device that has been quiet for days.
  let previousCutoff = '-inf';
  const sweep = setInterval(() => void markOffline().catch((error: unknown) => log.warn({ err: error }, 'offline sweep failed')), Math.min(30_000, config.deviceOfflineSeconds * 500));
  sweep.unref();
  async function markOffline(): Promise<void> {
    const tenants = await services.redis.smembers(globalKeys.tenants);
    const cutoff = Date.now() - config.deviceOfflineSeconds * 1000;
    for (const tenantId of tenants) {
      const keys = tenantKeys(tenantId);
      const quiet = await services.redis.zrangebyscore(keys.lastSeen, previousCutoff === '-inf' ? '-inf' : `(${previousCutoff}`, cutoff);
      if (quiet.length === 0) continue;
      const pipeline = services.redis.pipeline();
      for (const id of quiet) pipeline.hset(keys.deviceState(id), 'online', '0');
      await pipeline.exec();
    }
    previousCutoff = String(cutoff);
  }

  return {
    broker,
    counters,
    tcpPort,
    wsPort,
    sendCommand: (tenantId, device, command) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic: nativeTopic(tenantId, device.kind, device.id, 'cmd'), payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: false }, (error) => (error ? reject(error) : resolve())),
      ),
    disconnect: (tenantId, deviceId) => sessions.get(`${tenantId}/${deviceId}`)?.close(),
    settled,
    close: async () => {
      clearInterval(sweep);
      writer.flush();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await settled();
      await Promise.all([new Promise<void>((r) => tcp.close(() => r())), new Promise<void>((r) => ws.close(() => r()))]);
    },
  };
}
