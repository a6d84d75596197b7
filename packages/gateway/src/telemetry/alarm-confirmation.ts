import { randomUUID } from 'node:crypto';
import { CivicLoopError, type Actor, type ConfirmableAlarm, type Device, type PositionSource, type Ticket, type TicketEvent } from '@civicloop/model';
import { DeviceStateStore } from '../store/device-state-store.js';
import { alertDeviceFields, sosDeviceOf, writeAlertOnce } from './device-alerts.js';
import type { ServicesWithTelemetry } from './start.js';

/**
 * Where a device's reports come from when it has no way to take a confirmation: OsmAnd posts over
 * HTTP and is never answered with commands; OwnTracks has no command for it.
 */
const NO_CONFIRMATIONS: readonly PositionSource[] = ['osmand', 'owntracks'];

/**
 * Whether the device can be told of a confirmation: a JT/T 808 terminal, or an MQTT device that
 * does not report by OsmAnd or OwnTracks (or has not reported yet).
 */
async function takesConfirmations(state: DeviceStateStore, tenantId: string, device: Device): Promise<boolean> {
  if (device.protocol === 'jt808') return true;
  const source = await state.newestSource(tenantId, device.id);
  return !source || !NO_CONFIRMATIONS.includes(source);
}

/**
 * A device's alarms confirmed (人工确认报警): the device is given an `alarm_confirmation` command
 * (a JT/T 808 terminal: 0x8203, after which it clears those alarm bits), unless it has no way to
 * take one, and the confirmation goes on the tenant's event stream as an `alarm_confirmed` alert,
 * so that every console shows the alarms were seen to and by whom, and webhooks hear of it. The
 * alert is written once per `marker` (by default, once per call). Resolves with the command's
 * id, or undefined when the device was not sent one.
 */
export async function confirmAlarms(
  services: ServicesWithTelemetry,
  tenantId: string,
  by: Actor,
  device: Device,
  alarms: ConfirmableAlarm[],
  marker?: string,
): Promise<string | undefined> {
  if (!services.telemetry) throw new CivicLoopError('CL_ERR_DEVICE_UNREACHABLE', 'Telemetry is not running on this gateway.');
  const state = new DeviceStateStore(services.redis);
  // An outbox entry nothing would ever take would only wait there, beside the device's real commands.
  const commandId = (await takesConfirmations(state, tenantId, device))
    ? await services.telemetry.sendCommand(tenantId, device, { type: 'alarm_confirmation', alarms })
    : undefined;
  await writeAlertOnce(state, services, tenantId, marker ?? `${device.id}:confirmed:${commandId ?? randomUUID()}`, {
    type: 'alarm_confirmed',
    alarms,
    ...alertDeviceFields(device),
    at: services.now().toISOString(),
    confirmedBy: by,
  });
  return commandId;
}

/** Whether someone acted (a person, or the tenant's own server), not the gateway by itself: its routing, a device. */
const bySomeone = (actor: Actor) => !actor.sub.startsWith('system:') && !actor.sub.startsWith('device:');

/**
 * The first time someone acts on the ticket a device's SOS opened (dispatches it, accepts it,
 * rejects it...), the device's SOS is confirmed as by them, as if they had pressed Confirm: a
 * terminal that holds SOS until the platform confirms it would otherwise go on holding it after
 * the SOS was seen to, and its next SOS would raise nothing. Once per ticket; the gateway's own
 * routing does not count.
 */
export async function confirmSosOnFirstAction(services: ServicesWithTelemetry, tenantId: string, ticket: Ticket, event: TicketEvent): Promise<void> {
  const deviceId = sosDeviceOf(ticket);
  if (!deviceId || !bySomeone(event.actor)) return;
  const marker = `${deviceId}:confirmed:ticket:${ticket.id}`;
  if (await new DeviceStateStore(services.redis).alertRaised(tenantId, marker)) return;
  const device = await services.devices.get(tenantId, deviceId);
  if (device) await confirmAlarms(services, tenantId, event.actor, device, ['sos'], marker);
}
