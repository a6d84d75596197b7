import { ownTracksTopic, parseTopic } from '@civicloop/model';

/**
 * The name a device logs in to an external broker with: `<tenant>.<device>`. Tenant and device ids
 * hold no dot, so names never collide across tenants, and a name says whose it is. The OwnTracks
 * app puts its user name in its topics (`owntracks/<user>/<Device ID>`), so on an external broker
 * a phone's topics name its tenant and device too, and the broker's access rules keep each
 * account to its own.
 */
export const brokerAccountName = (tenantId: string, deviceId: string): string => `${tenantId}.${deviceId}`;

/** The tenant and device an account name (an OwnTracks topic's user) names, or undefined when it is not one. */
export function parseBrokerAccountName(name: string): { tenantId: string; deviceId: string } | undefined {
  const parts = name.split('.');
  return parts.length === 2 && parts[0] && parts[1] ? { tenantId: parts[0], deviceId: parts[1] } : undefined;
}

/** Where the gateways send an OwnTracks phone its commands on an external broker: the app's Device ID must be the device id. */
export const ownTracksCommandTopic = (tenantId: string, deviceId: string): string => ownTracksTopic(brokerAccountName(tenantId, deviceId), deviceId, 'cmd');

/**
 * The OwnTracks app's sub-topics besides its location (booklet, json): `event` is kept; the
 * others the app publishes in normal use, and they are allowed so that it sees no refusal, but no
 * gateway subscribes to them and they go nowhere.
 */
export const OWNTRACKS_SUBTOPICS: readonly string[] = ['event', 'waypoint', 'waypoints', 'status', 'info', 'step', 'beacon', 'dump'];

/**
 * Whether the phone of this account may publish to `topic` on an external broker: its location
 * topic `owntracks/<account>/<Device ID>` or one of the app's sub-topics under it, never `cmd`.
 */
export function isOwnTracksPublishTopic(tenantId: string, deviceId: string, topic: string): boolean {
  const parsed = /[+#]/.test(topic) ? undefined : parseTopic(topic);
  if (parsed?.format !== 'owntracks' || parsed.user !== brokerAccountName(tenantId, deviceId)) return false;
  return parsed.channel === 'location' || parsed.channel === 'event' || (parsed.channel === 'other' && OWNTRACKS_SUBTOPICS.includes(parsed.subtopic));
}
