import type { BadgeCommand } from '@civicloop/model';
import { sealForOwnTracks } from '../auth/owntracks-key.js';
import type { OwnTracksWaypoint } from './owntracks-jobs.js';

/** Whether a command has an OwnTracks form: a location request, and the wearer's jobs (an assignment, a withdrawal or a rework). */
export function hasOwnTracksForm(command: BadgeCommand): boolean {
  return command.type === 'report_location' || command.type === 'assignment' || command.type === 'withdrawal' || command.type === 'rework';
}

/**
 * A command as OwnTracks takes it (booklet, json: `_type: cmd`), or undefined when it has no
 * OwnTracks form (an alarm confirmation):
 *
 * - a location request as the app's `reportLocation`;
 * - an assignment, a withdrawal or a rework as `setWaypoints` with the wearer's jobs as they are now (the
 *   app has no command for a job, and can be told no single region to drop: every change sends
 *   them all, slot by slot, see owntracks-jobs.ts).
 *
 * `jobs` is asked only for the second. The outbox entry's id goes beside the command as
 * `commandId` (the apps ignore what they do not know); to an app that encrypts, the command goes
 * sealed with the device's key, the id outside the seal. Used by the embedded broker, by the
 * external broker's command sender and by the apps' HTTP mode alike.
 */
export async function ownTracksCommand(
  command: BadgeCommand,
  commandId: string,
  key: Uint8Array | undefined,
  jobs: () => Promise<OwnTracksWaypoint[]>,
): Promise<Record<string, unknown> | undefined> {
  if (!hasOwnTracksForm(command)) return undefined;
  const cmd = command.type === 'report_location' ? reportLocation() : setWaypoints(await jobs());
  return key ? { _type: 'encrypted', data: sealForOwnTracks(key, JSON.stringify(cmd)), commandId } : { ...cmd, commandId };
}

export const reportLocation = () => ({ _type: 'cmd', action: 'reportLocation' });

/** The booklet's setWaypoints: a `waypoints` message inside the command, as both apps read it. */
export const setWaypoints = (waypoints: OwnTracksWaypoint[]) => ({
  _type: 'cmd',
  action: 'setWaypoints',
  waypoints: { _type: 'waypoints', waypoints },
});
