import type { BadgeCommand, Device } from '@civicloop/model';
import type { GatewayApp } from './app.js';
import type { GatewayConfig } from './core/config.js';
import { ArrivalDetector } from './telemetry/arrival.js';
import { confirmSosOnFirstAction } from './telemetry/alarm-confirmation.js';
import { ASSIGNING_EVENTS, answerAsDriver, assignmentCommand, ownTracksResyncAfter, reworkAfter, withdrawalAfter } from './telemetry/assignment.js';
import { OwnTracksJobs } from './telemetry/owntracks-jobs.js';
import { BadgeEventHandler } from './telemetry/badge-events.js';
import { DeviceAlerts } from './telemetry/device-alerts.js';
import { PositionWriter } from './store/position-writer.js';
import { startTelemetry, type RunningTelemetry, type TelemetryHooks } from './telemetry/start.js';

/** Starts telemetry (the pipeline and the listeners) for a built gateway and makes it reachable from the HTTP routes. */
export async function attachTelemetry(gateway: GatewayApp, config: GatewayConfig, hooks: TelemetryHooks = {}): Promise<RunningTelemetry> {
  const { services, ticketService, app } = gateway;
  const writer = new PositionWriter(services.redis, {
    trackMaxLen: config.trackMaxLen,
    seenKeep: 1000,
    maxBatch: 512,
    replicaWait: { replicas: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
  });
  // A phone that reports only now and then is asked where it is once its dwell at a job would be up.
  const arrivals = new ArrivalDetector(services, ticketService, config, (tenantId, device) =>
    services.telemetry ? services.telemetry.sendCommand(tenantId, device, { type: 'report_location' }) : Promise.resolve(),
  );
  const alerts = new DeviceAlerts(services, ticketService, app.log);
  const telemetry = await startTelemetry({
    services,
    devices: services.devices,
    writer,
    alerts,
    badgeEvents: new BadgeEventHandler(services, alerts, gateway.stats.workforce),
    config,
    log: app.log,
    mediaStore: gateway.mediaStore,
    hooks: {
      onAssignmentAnswer: (tenantId, device, ticketId, answer) => answerAsDriver(ticketService, tenantId, device, ticketId, answer),
      onPositions: (tenantId, device, records) => {
        const watched = arrivals.watches(device);
        if (!watched && !hooks.onPositions) return;
        return (async () => {
          if (watched) await arrivals.onPositions(tenantId, device, records);
          await hooks.onPositions?.(tenantId, device, records);
        })();
      },
    },
  });
  // Whoever is given a ticket hears about it on their badge, and on the screen of the vehicle they
  // drive; whoever it is taken from hears that it is no longer theirs, so that nobody walks to a
  // job that went to someone else; whoever must redo one hears why.
  // `which`: of those devices, the ones to tell (all of them unless it says otherwise).
  const tell = async (tenantId: string, staffId: string, command: BadgeCommand, which?: (device: Device) => Promise<boolean>) => {
    for (const device of await services.devices.devicesOf(tenantId, staffId)) {
      if (!device.disabled && (!which || (await which(device)))) await services.telemetry?.sendCommand(tenantId, device, command);
    }
  };
  // An OwnTracks phone, told by the source of its newest position, is also told when its wearer's
  // jobs change otherwise (ownTracksResyncAfter).
  const ownTracks = new OwnTracksJobs(services);
  ticketService.onCommitted(async (tenantId, ticket, event) => {
    const withdrawn = withdrawalAfter(ticket, event);
    const resync = ownTracksResyncAfter(ticket, event);
    const rework = reworkAfter(ticket, event);
    // Each person's devices apart: one that cannot be told does not keep the other from hearing.
    const told = await Promise.allSettled([
      ASSIGNING_EVENTS.includes(event.type) && ticket.assigneeId ? tell(tenantId, ticket.assigneeId, assignmentCommand(ticket)) : undefined,
      withdrawn ? tell(tenantId, withdrawn.staffId, withdrawn.command) : undefined,
      rework ? tell(tenantId, rework.staffId, rework.command) : undefined,
      resync ? tell(tenantId, resync.staffId, resync.command, (device) => ownTracks.isOwnTracksPhone(tenantId, device)) : undefined,
      // Someone acting on an SOS's ticket has seen the SOS: the device is told so.
      confirmSosOnFirstAction(services, tenantId, ticket, event),
    ]);
    const failed = told.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  });
  // buildApp's onClose hook closes it with the HTTP app, before Redis goes away; arrival's
  // location requests still waiting go with it.
  const closeTelemetry = telemetry.close;
  telemetry.close = () => {
    arrivals.stop();
    return closeTelemetry();
  };
  services.telemetry = telemetry;
  return telemetry;
}
