import type { Client, Subscription } from 'aedes';
import { nativeTopic, ownTracksTopic } from '@civicloop/model';
import type { TenantCounters } from '../counters.js';
import type { DeviceSession } from './authorize-publish.js';
import { sessionOf } from './authenticate.js';

/** The only topics a device may subscribe to: its own command topics, native and OwnTracks. */
export function ownCommandTopics(session: Pick<DeviceSession, 'tenantId' | 'device' | 'username'>): string[] {
  const { tenantId, device, username } = session;
  return [nativeTopic(tenantId, device.kind, device.id, 'cmd'), ownTracksTopic(username, device.id, 'cmd'), ownTracksTopic(device.id, device.id, 'cmd')];
}

/** aedes' authorizeSubscribe: anything but the device's own command topics is refused (SUBACK 0x80) and counted. */
export function authorizeSubscribe(counters: TenantCounters) {
  return (client: Client | null, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void => {
    const session = sessionOf(client);
    if (session && ownCommandTopics(session).includes(subscription.topic)) return callback(null, subscription);
    if (session) counters.of(session.tenantId).deniedSubscriptions++;
    // A null subscription is answered with SUBACK 0x80 (failure), as MQTT 3.1.1 says.
    callback(null, null);
  };
}
