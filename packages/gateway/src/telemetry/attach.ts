import type { GatewayApp } from '../app.js';
import type { GatewayConfig } from '../config.js';
import { BadgeEventHandler } from './badge-events.js';
import { startTelemetry, type RunningTelemetry, type TelemetryHooks } from './broker.js';
import { PositionWriter } from './position-writer.js';

/** Starts the MQTT side of a built gateway and makes it reachable from the HTTP routes. */
export async function attachTelemetry(gateway: GatewayApp, config: GatewayConfig, hooks: TelemetryHooks = {}): Promise<RunningTelemetry> {
  const { services, ticketService, app } = gateway;
  const writer = new PositionWriter(services.redis, { trackMaxLen: config.trackMaxLen, seenKeep: 1000, maxDelayMs: 2, maxBatch: 256 });
  const telemetry = await startTelemetry({
    services,
    devices: services.devices,
    writer,
    badgeEvents: new BadgeEventHandler(services, ticketService),
    config,
    log: app.log,
    hooks,
  });
  // buildApp's onClose hook closes it with the HTTP app, before Redis goes away.
  services.telemetry = telemetry;
  return telemetry;
}
