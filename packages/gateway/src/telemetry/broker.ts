import { Aedes, type AuthenticateError, type Client, type Subscription } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_DECODE_LIMITS, nativeTopic, ownTracksTopic, type BadgeCommand, type Device, type PositionRecord } from '@civicloop/model';
import type { GatewayConfig } from '../config.js';
import type { Services } from '../services.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { BadgeEventHandler } from './badge-events.js';
import { GuardedConnection } from './connection-guard.js';
import { TenantCounters } from './counters.js';
import type { DeviceStore } from './device-store.js';
import { startMqttListeners } from './listeners.js';
import type { PositionWriter } from './position-writer.js';
import { PublishHandler, type DeviceSession } from './publish-handler.js';

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
  config: Pick<GatewayConfig, 'mqttPort' | 'mqttWsPort' | 'host' | 'deviceOfflineSeconds' | 'telemetryMaxPayloadBytes' | 'mqttPreAuthMaxBytes' | 'mqttConnectTimeoutMs' | 'mqttMaxPendingPerAddress'>;
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
    // The listeners hold their own, stricter deadline until the client has authenticated.
    connectTimeout: config.mqttConnectTimeoutMs,
    authenticate: (client, username, password, callback) => {
      const address = client.conn instanceof GuardedConnection ? client.conn.address : undefined;
      // An address past its failed-authentication limit is refused without a lookup.
      if (address && services.addressLimits.isBlocked(address)) return callback(denied('too many failed logins from this address', 5), false);
      const secret = password && password.length > 0 ? password.toString() : (username ?? '');
      const failed = () => (address ? services.addressLimits.noteAuthFailure(address).catch(() => undefined) : undefined);
      devices.login(secret).then(
        (result) => {
          if ('refused' in result) {
            void failed();
            if ('tenantId' in result && result.tenantId) counters.of(result.tenantId).refusedConnects++;
            else counters.unattributedRefusedConnects++;
            return callback(result.refused === 'disabled' ? denied('device disabled', 5) : denied('bad credentials', 4), false);
          }
          // Username + password clients must name the device the secret belongs to.
          if (password && password.length > 0 && username !== result.device.id) {
            void failed();
            counters.of(result.login.tenantId).refusedConnects++;
            return callback(denied('username is not the device of this secret', 4), false);
          }
          (client as Client & { civicloop?: DeviceSession }).civicloop = { tenantId: result.login.tenantId, device: result.device, username: username ?? result.device.id, counters: counters.of(result.login.tenantId) };
          // From here the connection is held to the post-authentication limits (connection-guard).
          if (client.conn instanceof GuardedConnection) client.conn.markAuthenticated();
          callback(null, true);
        },
        (error: unknown) => callback(Object.assign(error instanceof Error ? error : new Error(String(error)), { returnCode: 3 }) as AuthenticateError, false),
      );
    },
    authorizePublish: (client, packet, callback) => {
      const session = sessionOf(client);
      // The gateway's own commands (broker.publish) and last wills arrive here without a session.
      if (!session) return callback(packet.topic.endsWith('/cmd') ? null : new Error('publish without an authenticated device'));
      publishes.handle(session, packet).then(
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

  const publishes = new PublishHandler({ services, writer, badgeEvents, limits, log, afterStored });

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

  let listeners: Awaited<ReturnType<typeof startMqttListeners>>;
  try {
    listeners = await startMqttListeners(broker, {
      host: config.host,
      tcpPort: config.mqttPort,
      wsPort: config.mqttWsPort,
      connectTimeoutMs: config.mqttConnectTimeoutMs,
      maxPendingPerAddress: config.mqttMaxPendingPerAddress,
      counters,
      limits: { preAuthMaxBytes: config.mqttPreAuthMaxBytes, maxPayloadBytes: config.telemetryMaxPayloadBytes, maxControlBytes: 64 * 1024, maxTopicBytes: 1024 },
    });
  } catch (error) {
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
    tcpPort: listeners.tcpPort,
    wsPort: listeners.wsPort,
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
      await listeners.close();
    },
  };
}
