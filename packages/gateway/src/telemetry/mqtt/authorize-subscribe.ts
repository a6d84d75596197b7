import type { Client, Subscription } from 'aedes';
import { nativeTopic, ownTracksTopic, THINGSBOARD_RPC_REQUEST_PREFIX, THINGSBOARD_SUBSCRIPTIONS } from '@civicloop/model';
import type { TenantCounters } from '../counters.js';
import type { DeviceSession } from './authorize-publish.js';
import { sessionOf } from './authenticate.js';
import { isProvisioningClient, mayProvisioningSubscribe } from './thingsboard-provision.js';

/** The only topics a device may subscribe to: its own command topics, native and OwnTracks. */
export function ownCommandTopics(session: Pick<DeviceSession, 'tenantId' | 'device' | 'username'>): string[] {
  const { tenantId, device, username } = session;
  return [nativeTopic(tenantId, device.kind, device.id, 'cmd'), ownTracksTopic(username, device.id, 'cmd'), ownTracksTopic(device.id, device.id, 'cmd')];
}

/**
 * Whether a topic carries commands to this device: its own command topics, and ThingsBoard's
 * RPC requests (`v1/devices/me/rpc/request/<id>`, which name no device: only a device's own
 * commands are ever sent there, to its connection alone).
 */
export function isOwnCommandTopic(session: Pick<DeviceSession, 'tenantId' | 'device' | 'username'>, topic: string): boolean {
  return topic.startsWith(THINGSBOARD_RPC_REQUEST_PREFIX) || ownCommandTopics(session).includes(topic);
}

/**
 * What a device may subscribe to: its own command topics, and what ThingsBoard's device SDKs
 * subscribe to on connecting. No device can publish anything that reaches the latter: every
 * `v1/devices/me/...` message but telemetry is set aside and dropped, and nobody may subscribe to
 * telemetry.
 */
export function maySubscribe(session: Pick<DeviceSession, 'tenantId' | 'device' | 'username'>, topic: string): boolean {
  return THINGSBOARD_SUBSCRIPTIONS.includes(topic) || ownCommandTopics(session).includes(topic);
}

/**
 * aedes' authorizeSubscribe: anything but the device's own command topics (for a provisioning
 * connection, `/provision/response`) is refused (SUBACK 0x80) and counted.
 */
export function authorizeSubscribe(counters: TenantCounters) {
  return (client: Client | null, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void => {
    const session = sessionOf(client);
    if (session && maySubscribe(session, subscription.topic)) return callback(null, subscription);
    if (!session && isProvisioningClient(client) && mayProvisioningSubscribe(subscription.topic)) return callback(null, subscription);
    if (session) counters.of(session.tenantId).deniedSubscriptions++;
    // A null subscription is answered with SUBACK 0x80 (failure), as MQTT 3.1.1 says.
    callback(null, null);
  };
}
