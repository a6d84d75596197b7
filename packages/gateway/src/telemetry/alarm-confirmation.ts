import { CivicLoopError, type ConfirmableAlarm, type Device, type DeviceAlert, type Principal } from '@civicloop/model';
import { DeviceStateStore } from '../store/device-state-store.js';
import { actorOf } from '../tickets/actors.js';
import { MARKER_TTL_SECONDS } from './device-alerts.js';
import type { ServicesWithTelemetry } from './start.js';

/**
 * A dispatcher confirms a device's alarms (人工确认报警): the device is given an
 * `alarm_confirmation` command (a JT/T 808 terminal: 0x8203, after which it clears those alarm
 * bits), and the confirmation goes on the tenant's event stream as an `alarm_confirmed` alert,
 * so that every console shows the alarms were seen to and by whom, and webhooks hear of it.
 * Resolves with the command's id.
 */
export async function confirmAlarms(services: ServicesWithTelemetry, principal: Principal, device: Device, alarms: ConfirmableAlarm[]): Promise<string> {
  if (!services.telemetry) throw new CivicLoopError('CL_ERR_DEVICE_UNREACHABLE', 'Telemetry is not running on this gateway.');
  const commandId = await services.telemetry.sendCommand(principal.tenantId, device, { type: 'alarm_confirmation', alarms });
  const confirmed: DeviceAlert = {
    type: 'alarm_confirmed',
    alarms,
    deviceId: device.id,
    deviceKind: device.kind,
    deviceName: device.name,
    ...(device.staffId ? { staffId: device.staffId } : {}),
    ...(device.unitId ? { unitId: device.unitId } : {}),
    at: services.now().toISOString(),
    confirmedBy: actorOf(principal),
  };
  // Marked by the command's id: written once for it.
  await new DeviceStateStore(services.redis).raiseAlertOnce(principal.tenantId, `${device.id}:confirmed:${commandId}`, JSON.stringify(confirmed), {
    markerTtlSeconds: MARKER_TTL_SECONDS,
    streamMaxLen: services.config.streamMaxLen,
  });
  return commandId;
}
