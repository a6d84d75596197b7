import { setTimeout as sleep } from 'node:timers/promises';
import { CivicLoopError, type BadgeCommand, type Device, type PositionRecord } from '@civicloop/model';
import type { DeviceStateStore } from '../store/device-state-store.js';

/** How long a location request waits for the device's answer, whichever way it reports. */
export const DEFAULT_LOCATE_TIMEOUT_MS = 10_000;
/** How often the stored state is read while waiting: the answer may be stored by another gateway. */
const POLL_MS = 200;
/** Gateways' clocks may differ this much: another gateway may stamp the answer a little before the question. */
const CLOCK_SKEW_MS = 1000;

/**
 * Asks an MQTT device where it is: a `report_location` command (to an OwnTracks phone, its
 * `reportLocation`), sent through the outbox like any command, so it reaches the device on
 * whichever gateway holds its connection. The answer is the device's newest stored position once
 * it has been heard from after the question (a new fix, or its last one sent again), read from
 * Redis, since the gateway holding its connection stores it. A device marked offline is not
 * asked: nothing would answer in time.
 */
export async function locateByCommand(
  tenantId: string,
  device: Device,
  deps: { deviceState: DeviceStateStore; sendCommand: (command: BadgeCommand) => Promise<unknown> },
  timeoutMs = DEFAULT_LOCATE_TIMEOUT_MS,
): Promise<PositionRecord> {
  const before = await deps.deviceState.presence(tenantId, device.id);
  if (!before.online)
    throw new CivicLoopError(
      'CL_ERR_DEVICE_UNREACHABLE',
      `Device ${device.id} is offline${before.lastSeen ? ` (last heard from at ${new Date(before.lastSeen).toISOString()})` : ''}; ask again when it is back.`,
    );
  const askedAt = Date.now();
  await deps.sendCommand({ type: 'report_location' });
  while (Date.now() < askedAt + timeoutMs) {
    await sleep(POLL_MS);
    const now = await deps.deviceState.presence(tenantId, device.id);
    const heardSince = now.lastSeen !== undefined && now.lastSeen !== before.lastSeen && now.lastSeen >= askedAt - CLOCK_SKEW_MS;
    if (now.position && (now.position.key !== before.position?.key || heardSince)) return now.position;
  }
  throw new CivicLoopError(
    'CL_ERR_DEVICE_TIMEOUT',
    `Device ${device.id} reported no position within ${timeoutMs / 1000} s of being asked: it may be out of coverage, not subscribed to its ` +
      'command topic, or (OwnTracks) without remote commands or with a Device ID other than its id. The request stays in its outbox until it takes it.',
  );
}
