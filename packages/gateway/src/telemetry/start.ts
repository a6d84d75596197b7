import type { Aedes } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import type { BadgeCommand, Device, PositionRecord } from '@civicloop/model';
import { PollingLoop } from '../core/polling-loop.js';
import type { GatewayConfig } from '../core/config.js';
import type { Services } from '../core/services.js';
import { OwnTracksJobs } from './owntracks-jobs.js';
import type { BadgeEventHandler } from './badge-events.js';
import { TenantCounters } from './counters.js';
import type { DeviceAlerts } from './device-alerts.js';
import type { DeviceStore } from '../store/device-store.js';
import { CommandBus, type DeviceNotice } from './commands/bus.js';
import { CommandPolls } from './command-polls.js';
import { DeviceOutbox } from '../store/device-outbox.js';
import { startExternalBroker, type ExternalBrokerConfig, type RunningExternalBroker } from './external/start.js';
import { startJt808Listener, type Jt808Options, type RunningJt808 } from './jt808/listener.js';
import { TerminalPhotos } from './jt808/photos.js';
import type { MediaStore } from '../media/media-store.js';
import { startMqttBroker, type RunningMqtt } from './mqtt/broker.js';
import { OfflineSweep } from './offline-sweep.js';
import { locateByCommand } from './locate-by-command.js';
import { DeviceStateStore } from '../store/device-state-store.js';
import { TelemetryPipeline } from './pipeline.js';
import type { PositionWriter } from '../store/position-writer.js';

/** Hooks other parts of the gateway attach to telemetry (arrival detection, live map). */
export interface TelemetryHooks {
  /**
   * Called with each device's stored positions, one call at a time per device. Returning nothing
   * (rather than a promise) says there was nothing to do, and no queue is kept for it.
   */
  onPositions?: (tenantId: string, device: Device, records: PositionRecord[]) => Promise<void> | void;
  /** A driver answered an assignment's question on a JT/T 808 terminal (jt808/listener.ts). */
  onAssignmentAnswer?: Jt808Options['onAssignmentAnswer'];
}

export type TelemetryConfig = Pick<
  GatewayConfig,
  | 'mqttEnabled'
  | 'mqttPort'
  | 'mqttWsPort'
  | 'host'
  | 'deviceOfflineSeconds'
  | 'telemetryMaxPayloadBytes'
  | 'mqttPreAuthMaxBytes'
  | 'mqttConnectTimeoutMs'
  | 'mqttMaxPendingPerAddress'
  | 'jt808Port'
  | 'jt808AuthTimeoutMs'
  | 'jt808IdleSeconds'
  | 'jt808MaxMessageBytes'
  | 'mqttBrokerUrl'
> &
  Omit<ExternalBrokerConfig, 'mqttBrokerUrl'>;

export interface TelemetryOptions {
  services: Services;
  devices: DeviceStore;
  writer: PositionWriter;
  badgeEvents: BadgeEventHandler;
  alerts: DeviceAlerts;
  config: TelemetryConfig;
  log: FastifyBaseLogger;
  hooks?: TelemetryHooks;
  /** Where the photos JT/T 808 terminals upload are stored; without it they are set aside. */
  mediaStore?: MediaStore;
}

/**
 * The shared services with telemetry beside them, as the gateway's HTTP routes see them:
 * telemetry sits above the shared core (it uses it), so the core's Services cannot name it.
 */
export interface ServicesWithTelemetry extends Services {
  /** Telemetry, once started (absent when MQTT_ENABLED=false or before it listens). */
  telemetry?: RunningTelemetry;
}

export interface RunningTelemetry {
  /** Every way in hands its decoded messages to this (the OsmAnd HTTP route too). */
  pipeline: TelemetryPipeline;
  counters: TenantCounters;
  /** The embedded MQTT broker, unless MQTT_ENABLED=false or MQTT_BROKER_URL is set. */
  broker?: Aedes;
  /** With an external broker (MQTT_BROKER_URL): this gateway's client id there (its connections add -1, -2... and -control). */
  externalBroker?: string;
  tcpPort?: number;
  wsPort?: number;
  /** The JT/T 808 listener's port, unless JT808_PORT is off. */
  jt808Port?: number;
  /** Devices' HTTP long polls for their commands held on this gateway (ThingsBoard's HTTP RPC). */
  commandPolls: CommandPolls;
  /**
   * Gives a device a command: kept in its outbox until the device confirms it, and sent by the
   * gateway holding its connection (this one or another, told over Redis pub/sub), now or when
   * it connects again. To a JT/T 808 terminal a location request goes as a location query.
   * Resolves with the command's id (its `commandId`).
   */
  sendCommand(tenantId: string, device: Device, command: BadgeCommand): Promise<string>;
  /**
   * Asks a device where it is and waits for its answer: a JT/T 808 terminal by a location query
   * (0x8201), an MQTT device (native or OwnTracks) by a `report_location` command. One connected
   * to another gateway is asked through the outbox and its answer read from Redis.
   */
  locate(tenantId: string, device: Device, timeoutMs?: number): Promise<PositionRecord>;
  /** Resolves when what stored positions set off (arrival detection) has finished. */
  settled(): Promise<void>;
  /** Closes a device's live connection and ends its HTTP long polls, if it holds them on this gateway. */
  disconnect(tenantId: string, deviceId: string): void;
  /**
   * A device's record changed (PATCH: a new wearer or driver, unit, coordinate system): its live
   * connection, on this gateway or another (told over Redis pub/sub), goes on with the record as
   * it now is, not the one it logged in with.
   */
  deviceChanged(tenantId: string, device: Device): Promise<void>;
  close(): Promise<void>;
}

/**
 * Telemetry: the one pipeline and the ways into it that listen on their own ports (the
 * embedded MQTT broker, the JT/T 808 listener), and the sweep that marks quiet devices offline.
 */
// Long: it starts the listeners and wires them together; the handle it returns closes over what it started, so they share one scope.
export async function startTelemetry(options: TelemetryOptions): Promise<RunningTelemetry> {
  const { services, devices, writer, badgeEvents, alerts, config, log, hooks } = options;
  const counters = new TenantCounters();
  const pipeline = new TelemetryPipeline({ services, writer, badgeEvents, alerts, log, ...(hooks?.onPositions ? { onPositions: hooks.onPositions } : {}) });

  const outbox = new DeviceOutbox(services.redis);
  const bus = new CommandBus(services.redis, log);
  const commandPolls = new CommandPolls();
  let mqtt: RunningMqtt | undefined;
  let external: RunningExternalBroker | undefined;
  let jt808: RunningJt808 | undefined;
  const closeAll = async () => {
    bus.close();
    await mqtt?.close();
    await external?.close();
    await jt808?.close();
  };
  /**
   * Sends what waits for the device, if it is connected to this gateway (any way in, an HTTP
   * long poll too). An external broker is not asked here: any gateway can publish to it, so the
   * gateway that gives a command publishes it, and the others, told by the bus, would only
   * publish it again.
   */
  const deliverHere = (tenantId: string, deviceId: string) => {
    commandPolls.nudge(tenantId, deviceId);
    mqtt?.deliverWaiting(tenantId, deviceId);
    jt808?.deliverWaiting(tenantId, deviceId).catch((error: unknown) => log.warn({ err: error, device: deviceId }, 'could not send waiting commands'));
  };
  /** The record a connection here goes on with, as it now is. */
  const refreshHere = (tenantId: string, device: Device) => {
    mqtt?.refresh(tenantId, device);
    jt808?.refresh(tenantId, device);
    // Read afresh at the device's next message through the external broker.
    external?.forget(tenantId, device.id);
  };
  const onNotice = (tenantId: string, deviceId: string, kind: DeviceNotice) => {
    if (kind === 'command') return deliverHere(tenantId, deviceId);
    devices.get(tenantId, deviceId).then(
      (device) => device && refreshHere(tenantId, device),
      (error: unknown) => log.warn({ err: error, device: deviceId }, 'could not read a changed device'),
    );
  };
  try {
    const { mqttBrokerUrl } = config;
    if (mqttBrokerUrl) {
      // A command the broker had nobody for may be for a device that polls over HTTP: its poll, on
      // this gateway or another, looks again now that the command is no longer held.
      const onCommandKept = (tenantId: string, deviceId: string) => {
        deliverHere(tenantId, deviceId);
        bus.notify(tenantId, deviceId).catch((error: unknown) => log.warn({ err: error, device: deviceId }, 'could not tell the other gateways of a command'));
      };
      const ownTracksJobs = new OwnTracksJobs(services);
      external = await startExternalBroker({ devices, pipeline, counters, outbox, config: { ...config, mqttBrokerUrl }, log, ownTracksJobs, onCommandKept });
    } else if (config.mqttEnabled) mqtt = await startMqttBroker({ services, devices, pipeline, counters, outbox, config, log });
    if (config.jt808Port !== false)
      jt808 = await startJt808Listener({
        services,
        devices,
        pipeline,
        counters,
        outbox,
        badgeEvents,
        ...(hooks?.onAssignmentAnswer ? { onAssignmentAnswer: hooks.onAssignmentAnswer } : {}),
        ...(options.mediaStore ? { photos: new TerminalPhotos(services.redis, options.mediaStore, pipeline) } : {}),
        config: { ...config, port: config.jt808Port },
        log,
      });
    await bus.start(onNotice);
  } catch (error) {
    await closeAll();
    throw error;
  }

  const sweep = new PollingLoop('offline sweep', () => offline.run(), log);
  const deviceState = new DeviceStateStore(services.redis);
  const offline = new OfflineSweep(services.tenants, deviceState, config.deviceOfflineSeconds);
  sweep.start(Math.min(30_000, config.deviceOfflineSeconds * 500));

  const sendCommand: RunningTelemetry['sendCommand'] = async (tenantId, device, command) => {
    // Into the device's outbox, where it waits until the device confirms it; then sent by this
    // gateway if it holds the device's connection, and by whichever other gateway does.
    const entry = await outbox.push(tenantId, device, command);
    if (external && device.protocol !== 'jt808') external.sendWaiting(tenantId, device);
    deliverHere(tenantId, device.id);
    await bus.notify(tenantId, device.id);
    return entry.id;
  };

  return {
    pipeline,
    counters,
    ...(mqtt ? { broker: mqtt.broker, tcpPort: mqtt.tcpPort, wsPort: mqtt.wsPort } : {}),
    ...(jt808 ? { jt808Port: jt808.port } : {}),
    ...(external ? { externalBroker: external.clientId } : {}),
    commandPolls,
    sendCommand,
    locate: (tenantId, device, timeoutMs) => {
      // A terminal connected here is asked directly and its own answer awaited.
      if (device.protocol === 'jt808' && jt808?.holds(tenantId, device.id)) return jt808.locate(tenantId, device, timeoutMs);
      return locateByCommand(tenantId, device, { deviceState, sendCommand: (command) => sendCommand(tenantId, device, command) }, timeoutMs);
    },
    disconnect: (tenantId, deviceId) => {
      commandPolls.endPolls(tenantId, deviceId);
      mqtt?.disconnect(tenantId, deviceId);
      // The broker closed the device's connection itself (mosquitto: disableClient); its next message is judged afresh.
      external?.forget(tenantId, deviceId);
      jt808?.disconnect(tenantId, deviceId);
    },
    deviceChanged: async (tenantId, device) => {
      refreshHere(tenantId, device);
      // The change is stored already: a notice that cannot go out leaves other gateways' connections
      // with the old record until the device reconnects, and does not fail the change.
      await bus
        .notify(tenantId, device.id, 'changed')
        .catch((error: unknown) => log.warn({ err: error, device: device.id }, 'could not tell the other gateways of a device change'));
    },
    settled: () => pipeline.settled(),
    close: async () => {
      commandPolls.closeAll();
      await sweep.stop();
      writer.flush();
      await closeAll();
      await pipeline.settled();
    },
  };
}
