import { Aedes, type Client } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_DECODE_LIMITS, type Device } from '@civicloop/model';
import type { GatewayConfig } from '../../core/config.js';
import type { Services } from '../../core/services.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { DeviceOutbox } from '../../store/device-outbox.js';
import type { TelemetryPipeline } from '../pipeline.js';
import { authenticateDevices, sessionOf } from './authenticate.js';
import { ClientIdClaims } from './client-ids.js';
import { AuthorizePublish } from './authorize-publish.js';
import { authorizeSubscribe } from './authorize-subscribe.js';
import { OwnTracksJobs } from '../owntracks-jobs.js';
import { MqttCommandDelivery } from './command-delivery.js';
import { answerAttributeRequest, attributeRequestId } from './thingsboard-attributes.js';
import { handleProvisioningPublish, isProvisioningClient } from './thingsboard-provision.js';
import { startMqttListeners } from './listeners.js';

export interface MqttOptions {
  services: Services;
  devices: DeviceStore;
  pipeline: TelemetryPipeline;
  counters: TenantCounters;
  /** Where commands wait until the device acknowledges them. */
  outbox: DeviceOutbox;
  config: Pick<
    GatewayConfig,
    'mqttPort' | 'mqttWsPort' | 'host' | 'telemetryMaxPayloadBytes' | 'mqttPreAuthMaxBytes' | 'mqttConnectTimeoutMs' | 'mqttMaxPendingPerAddress'
  >;
  log: FastifyBaseLogger;
}

export interface RunningMqtt {
  broker: Aedes;
  tcpPort: number;
  wsPort: number;
  /** Sends what waits in the device's outbox on its cmd topic, if it is connected here; false if it is not. */
  deliverWaiting(tenantId: string, deviceId: string): boolean;
  /** Closes a device's connection, if it holds one here. */
  disconnect(tenantId: string, deviceId: string): boolean;
  /** The device's record as it now is, for its connection here (if it has one) to go on with. */
  refresh(tenantId: string, device: Device): void;
  close(): Promise<void>;
}

/**
 * The embedded MQTT broker, one of the ways into the telemetry pipeline. Devices authenticate
 * with their own credentials (authenticate.ts), may publish only under their own topics
 * (authorize-publish.ts) and subscribe only to their own command topic (authorize-subscribe.ts).
 * aedes sends the PUBACK after authorizePublish has finished, so an acknowledged QoS 1 message
 * is in Redis.
 */
// Long: it starts the listeners and wires them together; the handle it returns closes over what it started, so they share one scope.
export async function startMqttBroker(options: MqttOptions): Promise<RunningMqtt> {
  const { services, devices, pipeline, counters, outbox, config, log } = options;
  const sessions = new Map<string, Client>();
  const publishes = new AuthorizePublish(pipeline, { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: config.telemetryMaxPayloadBytes }, log);

  const broker = await Aedes.createBroker({
    // Telemetry is written to Redis, not queued for offline subscribers: keep aedes' own queues small.
    concurrency: 1000,
    maxClientsIdLength: 128,
    // The listeners hold their own, stricter deadline until the client has authenticated.
    connectTimeout: config.mqttConnectTimeoutMs,
    authenticate: authenticateDevices(services, devices, counters, new ClientIdClaims()),
    authorizePublish: (client, packet, callback) => {
      const session = sessionOf(client);
      if (!session && client && isProvisioningClient(client)) return handleProvisioningPublish(services, client, packet, callback);
      // Only last wills arrive here without a session (commands are written to the device's own
      // connection, command-delivery.ts, and do not pass through the broker): they are refused.
      if (!session) return callback(new Error('publish without an authenticated device'));
      const attributeRequest = attributeRequestId(packet.topic);
      if (attributeRequest === undefined) return publishes.handle(session, packet, callback);
      publishes.handle(session, packet, (error) => {
        callback(error);
        if (!error && client) answerAttributeRequest(client, attributeRequest);
      });
    },
    authorizeSubscribe: authorizeSubscribe(counters),
  });

  const commands = new MqttCommandDelivery(broker, outbox, log, new OwnTracksJobs(services));

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
      limits: {
        preAuthMaxBytes: config.mqttPreAuthMaxBytes,
        maxPayloadBytes: config.telemetryMaxPayloadBytes,
        maxControlBytes: 64 * 1024,
        maxTopicBytes: 1024,
      },
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }

  return {
    broker,
    tcpPort: listeners.tcpPort,
    wsPort: listeners.wsPort,
    deliverWaiting: (tenantId, deviceId) => {
      const client = sessions.get(`${tenantId}/${deviceId}`);
      if (!client) return false;
      commands.deliver(client);
      return true;
    },
    disconnect: (tenantId, deviceId) => {
      const client = sessions.get(`${tenantId}/${deviceId}`);
      client?.close();
      return client !== undefined;
    },
    refresh: (tenantId, device) => {
      const session = sessionOf(sessions.get(`${tenantId}/${device.id}`) ?? null);
      if (session) session.device = device;
    },
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await listeners.close();
    },
  };
}
