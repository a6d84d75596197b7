import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CivicLoopError, DEFAULT_DECODE_LIMITS, type Device } from '@civicloop/model';
import type { GatewayConfig } from '../../core/config.js';
import type { DeviceOutbox } from '../../store/device-outbox.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { OwnTracksJobs } from '../owntracks-jobs.js';
import type { TelemetryPipeline } from '../pipeline.js';
import { ExternalCommandSender } from './command-sender.js';
import { MosquittoDeviceAccounts } from './mosquitto-accounts.js';
import { DynsecClient } from './mosquitto-dynsec.js';
import { pipelinedAcks } from './pipelined-acks.js';
import { subscribeOrExplain } from './subscribe.js';
import { ExternalSubscriber, sharedTopics } from './subscriber.js';

export type ExternalBrokerConfig = Pick<
  GatewayConfig,
  | 'port'
  | 'mqttBrokerUsername'
  | 'mqttBrokerPassword'
  | 'mqttBrokerClientId'
  | 'mqttBrokerShareGroup'
  | 'mqttBrokerSubscribers'
  | 'mqttBrokerSessionExpirySeconds'
  | 'mqttBrokerDynsec'
  | 'mqttBrokerDynsecTimeoutMs'
  | 'telemetryMaxPayloadBytes'
  | 'authCacheTtlMs'
> & { mqttBrokerUrl: string };

export interface ExternalBrokerOptions {
  devices: DeviceStore;
  pipeline: TelemetryPipeline;
  counters: TenantCounters;
  outbox: DeviceOutbox;
  config: ExternalBrokerConfig;
  log: FastifyBaseLogger;
  /** An OwnTracks phone's jobs, which it is sent as regions for an assignment or a withdrawal. */
  ownTracksJobs: OwnTracksJobs;
  /** A command the broker had nobody for was given back to the outbox (see ExternalCommandSender). */
  onCommandKept?: (tenantId: string, deviceId: string) => void;
}

export interface RunningExternalBroker {
  /** The client id its connections are named after. */
  clientId: string;
  /** Publishes what waits in an MQTT device's outbox to the broker. */
  sendWaiting(tenantId: string, device: Device): void;
  /** A device changed over the HTTP API: its record is read afresh for its next message. */
  forget(tenantId: string, deviceId: string): void;
  close(): Promise<void>;
}

/** How long the first connection to the broker may take before the gateway gives up starting. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * External-broker mode (MQTT_BROKER_URL): no broker of the gateway's own. Devices connect to the
 * broker; the gateway holds `MQTT_BROKER_SUBSCRIBERS` MQTT 5 connections in the shared
 * subscription group `$share/<MQTT_BROKER_SHARE_GROUP>/...` (native and OwnTracks topics), so every message goes to one
 * connection of one gateway, and one more connection that publishes commands and, with
 * MQTT_BROKER_DYNSEC, manages device accounts in mosquitto's dynamic security plugin.
 *
 * Each QoS 1 message is acknowledged to the broker only once it is stored, in order, while each
 * connection stores several at once (pipelined-acks.ts): the subscribers keep persistent sessions under stable client ids, so what a
 * gateway had been given and had not acknowledged when it died is sent to it again when it comes
 * back, and stored once (positions are de-duplicated by device and fix time).
 */
// Long: it starts the listeners and wires them together; the handle it returns closes over what it started, so they share one scope.
export async function startExternalBroker(options: ExternalBrokerOptions): Promise<RunningExternalBroker> {
  const { devices, pipeline, counters, outbox, config, log } = options;
  const base = config.mqttBrokerClientId ?? `civicloop-${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${config.port}`;
  const clients: MqttClient[] = [];
  const subscribers: { client: MqttClient; acks: ReturnType<typeof pipelinedAcks> }[] = [];
  let sender: ExternalCommandSender | undefined;
  let dynsec: DynsecClient | undefined;
  const closeAll = async () => {
    dynsec?.close();
    devices.useAccounts(undefined);
    await Promise.all(subscribers.map((s) => leaveGroup(s.client, s.acks, config.mqttBrokerShareGroup).catch(() => undefined)));
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  };

  const subscriber = new ExternalSubscriber({
    pipeline,
    devices,
    counters,
    limits: { ...DEFAULT_DECODE_LIMITS, maxPayloadBytes: config.telemetryMaxPayloadBytes },
    log,
    deviceCacheMs: config.authCacheTtlMs,
    onOnline: (tenantId, device) => sender?.deliver(tenantId, device, 'native'),
    onOwnTracks: (tenantId, device) => sender?.deliver(tenantId, device, 'owntracks'),
  });

  try {
    const control = await connect(config, { clientId: `${base}-control`, clean: true }, log);
    clients.push(control);
    sender = new ExternalCommandSender(
      control,
      outbox,
      log,
      counters,
      (tenantId, device) => devices.ownTracksKey(tenantId, device.id),
      options.ownTracksJobs,
      options.onCommandKept,
    );
    if (config.mqttBrokerDynsec) {
      if (!config.mqttBrokerUsername)
        throw new CivicLoopError(
          'CL_ERR_CONFIG',
          'MQTT_BROKER_DYNSEC is true but MQTT_BROKER_USERNAME is not set: the gateway manages device ' +
            'accounts as a dynamic security admin; set MQTT_BROKER_USERNAME and MQTT_BROKER_PASSWORD.',
        );
      dynsec = await DynsecClient.attach(control, config.mqttBrokerDynsecTimeoutMs);
      await MosquittoDeviceAccounts.grantGateway(dynsec, config.mqttBrokerUsername);
      devices.useAccounts(new MosquittoDeviceAccounts(dynsec));
    }
    for (let i = 1; i <= config.mqttBrokerSubscribers; i++) {
      let subscription: MqttClient | undefined;
      const acks = pipelinedAcks(
        (topic, payload) => subscriber.handle(topic, payload),
        (error) => {
          // Not stored: not acknowledged. Dropping the connection makes the broker send it (and
          // what came after it) again on the next one: MQTT 5 resends only on reconnect.
          log.warn({ err: error }, 'could not store a message from the MQTT broker; reconnecting so that it is sent again');
          subscription?.stream.destroy();
        },
      );
      await connect(
        config,
        {
          clientId: `${base}-${i}`,
          clean: false,
          properties: { sessionExpiryInterval: config.mqttBrokerSessionExpirySeconds },
          customHandleAcks: acks.customHandleAcks,
        },
        log,
        (client) => {
          subscription = client;
          acks.attach(client);
        },
      );
      const connected = subscription!;
      subscribers.push({ client: connected, acks });
      clients.push(connected);
      await subscribe(connected, config.mqttBrokerShareGroup);
      // A broker that lost the session (restarted without persistence, or the session expired) needs the subscription again.
      connected.on('connect', (connack) => {
        if (!connack.sessionPresent)
          subscribe(connected, config.mqttBrokerShareGroup).catch((error: unknown) =>
            log.error({ err: error }, 'could not subscribe again on the MQTT broker'),
          );
      });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  log.info(
    { clientId: base, subscribers: config.mqttBrokerSubscribers, group: config.mqttBrokerShareGroup, dynsec: config.mqttBrokerDynsec },
    'consuming telemetry from the external MQTT broker',
  );

  return {
    clientId: base,
    sendWaiting: (tenantId, device) => sender?.deliver(tenantId, device),
    forget: (tenantId, deviceId) => subscriber.forget(tenantId, deviceId),
    close: closeAll,
  };
}

/**
 * A gateway that stops leaves the shared subscription cleanly: it unsubscribes (the broker gives
 * it nothing new), stores and acknowledges what it was already given, and ends its session
 * (DISCONNECT with session expiry 0), so that the broker gives every later message to the other
 * gateways instead of queueing the stopped one's share for its return. A gateway that could not
 * store everything it was given in time (Redis away) keeps its session, and so does one that dies
 * without stopping: their messages wait for them under their client id.
 */
async function leaveGroup(client: MqttClient, acks: ReturnType<typeof pipelinedAcks>, group: string): Promise<void> {
  if (!client.connected) return;
  await client.unsubscribeAsync(sharedTopics(group));
  // Ending the session drops what it still holds: only when everything given was acknowledged.
  const acknowledged = await acks.settle(LEAVE_QUIET_MS, LEAVE_MAX_MS);
  await client.endAsync(false, acknowledged ? { properties: { sessionExpiryInterval: 0 } } : {});
}

/** How long a leaving connection waits for the broker to stop sending (no message for this long), and at most. */
const LEAVE_QUIET_MS = 200;
const LEAVE_MAX_MS = 10_000;

function subscribe(client: MqttClient, group: string): Promise<void> {
  return subscribeOrExplain(
    client,
    sharedTopics(group),
    (refused) =>
      `The MQTT broker refused the subscription to ${refused.join(', ')}: give MQTT_BROKER_USERNAME ` +
      `the right to subscribe to civicloop/# and owntracks/# (shared subscriptions need MQTT 5).`,
  );
}

/**
 * One connection to the broker, connected; a refusal or no answer names the variable to change.
 * `prepare` runs before the first CONNECT: a persistent session's messages may follow the CONNACK at once.
 */
function connect(config: ExternalBrokerConfig, extra: IClientOptions, log: FastifyBaseLogger, prepare?: (client: MqttClient) => void): Promise<MqttClient> {
  const client = mqtt.connect(config.mqttBrokerUrl, {
    manualConnect: true,
    protocolVersion: 5,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(config.mqttBrokerUsername ? { username: config.mqttBrokerUsername } : {}),
    ...(config.mqttBrokerPassword ? { password: config.mqttBrokerPassword } : {}),
    ...extra,
  });
  prepare?.(client);
  const connected = new Promise<MqttClient>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      client.end(true);
      reject(
        new CivicLoopError(
          'CL_ERR_CONFIG',
          `Could not connect to the MQTT broker at MQTT_BROKER_URL=${config.mqttBrokerUrl} as ` +
            `${extra.clientId}: ${why}. Check MQTT_BROKER_URL, MQTT_BROKER_USERNAME and MQTT_BROKER_PASSWORD.`,
        ),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    client.once('connect', () => {
      clearTimeout(timer);
      client.off('error', onFirstError);
      client.on('error', (error) => log.warn({ err: error, clientId: extra.clientId }, 'MQTT broker connection error'));
      resolve(client);
    });
    const onFirstError = (error: Error) => fail(error.message);
    client.once('error', onFirstError);
  });
  client.connect();
  return connected;
}
