import type { BadgeCommand } from '@civicloop/model';

/** Each command's RPC method, named in ThingsBoard's camelCase. */
const METHODS: Record<BadgeCommand['type'], string> = {
  assignment: 'assignment',
  withdrawal: 'withdrawal',
  rework: 'rework',
  report_location: 'reportLocation',
  alarm_confirmation: 'alarmConfirmation',
  // Only a JT/T 808 terminal is asked for a photo (routes/device-photos.ts); named all the same.
  take_photo: 'takePhoto',
};

/**
 * A command as a ThingsBoard server-side RPC request: `{"method", "params"}`, the method named as
 * ThingsBoard's are (`assignment`, `reportLocation`), the command's fields and the outbox entry's
 * id in `params`. Sent on MQTT as `v1/devices/me/rpc/request/<n>` and, over HTTP, as the answer
 * to the firmware's long poll with the request id `<n>` beside them.
 */
export function thingsBoardCommand(command: BadgeCommand, commandId: string): { method: string; params: Record<string, unknown> } {
  const { type, ...fields } = command;
  return { method: METHODS[type], params: { ...fields, commandId } };
}
