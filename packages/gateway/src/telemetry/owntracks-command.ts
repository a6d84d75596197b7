import type { BadgeCommand } from '@civicloop/model';
import { sealForOwnTracks } from '../auth/owntracks-key.js';

/**
 * A command as OwnTracks takes it (booklet, json: `_type: cmd`), with the outbox entry's id beside
 * it (the apps ignore what they do not know): only a location request has an OwnTracks form. To
 * an app that encrypts, it goes sealed with the device's key, the id outside the seal. Used by
 * the embedded broker and by the external broker's command sender alike.
 */
export function ownTracksCommand(command: BadgeCommand, commandId: string, key: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (command.type !== 'report_location') return undefined;
  const cmd = { _type: 'cmd', action: 'reportLocation' };
  return key ? { _type: 'encrypted', data: sealForOwnTracks(key, JSON.stringify(cmd)), commandId } : { ...cmd, commandId };
}
