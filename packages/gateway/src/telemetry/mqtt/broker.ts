import { Aedes, type Client } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_DECODE_LIMITS, nativeTopic, type BadgeCommand, type Device } from '@civicloop/model';
import type { GatewayConfig } from '../../config.js';
import type { Services } from '../../services.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../device-store.js';
import type { TelemetryPipeline } from '../pipeline.js';
import { authenticateDevices, sessionOf } from './authenticate.js';
import { AuthorizePublish } from './authorize-publish.js';
import { authorizeSubscribe } from './authorize-subscribe.js';
import { startMqttListeners } from './listeners.js';

export interface MqttOptions {
  services: Services;
  devices: DeviceStore;
  pipeline: TelemetryPipeline;
  counters: TenantCounters;
  config: Pick<GatewayConfig, 'mqttPort' | 'mqttWsPort' | 'host' | 'telemetryMaxPayloadBytes' | 'mqttPreAuthMaxBytes' | 'mqttConnectTimeoutMs' | 'mqttMaxPendingPerAddress'>;
  log: FastifyBaseLogger;
}

export interface RunningMqtt {
  broker: Aedes;
  tcpPort: number;
  wsPort: number;
  /** Publishes a command on the device's cmd topic (QoS 1). */
  sendCommand(tenantId: string, device: Device, command: BadgeCommand): Promise<void>;
  /** Closes a device's connection, if it holds one here. */
  disconnect(tenantId: string, deviceId: string): boolean;
  close(): Promise<void>;
}

/**
 * The embedded MQTT broker, one of the ways into the telemetry pipeline. Devices authenticate
 * with their own credentials (authenticate.ts), may publish only under their own topics
 * (authorize-publish.ts) and subscribe only to their own command topic (authorize-subscribe.ts).
 * aedes sends the PUBACK after authorizePublish has finished, so an acknowledged QoS 1 message
 * is in Redis.
 */
export async function startMqttBroker(options: MqttOptions): Promise<RunningMqtt> {
  const { services, devices, pipeline, counters, config, log } = options;
  const sessions = new Map<string, Client>();
  const publishes = new AuthorizePublish(pipeline, { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: config.telemetryMaxPayloadBytes }, log);

  const broker = await Aedes.createBroker({
    // Telemetry is written to Redis, not queued for offline subscribers: keep aedes' own queues small.
    concurrency: 1000,
    maxClientsIdLength: 128,
    // The listeners hold their own, stricter deadline until the client has authenticated.
    connectTimeout: config.mqttConnectTimeoutMs,
    authenticate: authenticateDevices(services, devices, counters),
    authorizePublish: (client, packet, callback) => {
      const session = sessionOf(client);
      // The gateway's own commands (broker.publish) and last wills arrive here without a session.
      if (!session) return callback(packet.topic.endsWith('/cmd') ? null : new Error('publish without an authenticated device'));
      publishes.handle(session, packet).then(
        () => callback(null),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
    authorizeSubscribe: authorizeSubscribe(counters),
  });

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

  return {
    broker,
    tcpPort: listeners.tcpPort,
    wsPort: listeners.wsPort,
    sendCommand: (tenantId, device, command) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic: nativeTopic(tenantId, device.kind, device.id, 'cmd'), payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: false }, (error) => (error ? reject(error) : resolve())),
      ),
    disconnect: (tenantId, deviceId) => {
      const client = sessions.get(`${tenantId}/${deviceId}`);
      client?.close();
      return client !== undefined;
    },
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await listeners.close();
    },
  };
}
