import type { AuthenticateError, Client } from 'aedes';
import type { Services } from '../../core/services.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { DeviceSession } from './authorize-publish.js';
import type { ClientIdClaims } from './client-ids.js';
import { GuardedConnection } from './connection-guard.js';
import { acceptProvisioning, isProvisioningConnect } from './thingsboard-provision.js';

const denied = (message: string, returnCode: 2 | 4 | 5): AuthenticateError => Object.assign(new Error(message), { returnCode }) as AuthenticateError;

export type SessionClient = Client & { civicloop?: DeviceSession };

/** The device an authenticated client is, if it is one (the gateway's own publishes have none). */
export const sessionOf = (client: Client | null): DeviceSession | undefined => (client as SessionClient | null)?.civicloop;

/**
 * aedes' authenticate: a device logs in with its own secret, as the password with its id as the
 * username, or (ThingsBoard-style) as the username with no password. CONNACK 4 for bad
 * credentials, 5 for a disabled device or an address past its failed-login limit, 2 for a client
 * id another device's connection holds (client-ids.ts). A connection
 * as `provision` is a ThingsBoard provisioning request's (thingsboard-provision.ts).
 */
export function authenticateDevices(services: Services, devices: DeviceStore, counters: TenantCounters, clientIds: ClientIdClaims) {
  return (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    callback: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    if (isProvisioningConnect(client, username, password)) return acceptProvisioning(services, client, callback);
    const address = client.conn instanceof GuardedConnection ? client.conn.address : undefined;
    const secret = password && password.length > 0 ? password.toString() : (username ?? '');
    // An address past its failed-authentication limit is refused without a lookup, except a secret
    // that logged in within a day (DeviceStore.verifiedRecently).
    if (address && services.addressLimits.isBlocked(address) && !devices.verifiedRecently(secret))
      return callback(denied('too many failed logins from this address', 5), false);
    const failed = () => (address ? services.addressLimits.noteAuthFailure(address).catch(() => undefined) : undefined);
    // A device that encrypts its OwnTracks messages has its key looked up with its login, once per connection.
    const withKey = async (result: Awaited<ReturnType<DeviceStore['login']>>) => ({
      result,
      key: 'refused' in result || !result.device.ownTracksEncryption ? undefined : await devices.ownTracksKey(result.login.tenantId, result.device.id),
    });
    devices
      .login(secret)
      .then(withKey)
      .then(
        ({ result, key }) => {
          if ('refused' in result) {
            void failed();
            if ('tenantId' in result && result.tenantId) counters.of(result.tenantId).refusedConnects++;
            else counters.unattributedRefusedConnects++;
            return callback(result.refused === 'disabled' ? denied('device disabled', 5) : denied('bad credentials', 4), false);
          }
          // Username + password clients must name the device the secret belongs to.
          if (password && password.length > 0 && username !== result.device.id) {
            void failed();
            counters.of(result.login.tenantId).refusedConnects++;
            return callback(denied('username is not the device of this secret', 4), false);
          }
          // A client id another device's connection holds is not this device's to take (client-ids.ts).
          if (!clientIds.claim(client, `${result.login.tenantId}/${result.device.id}`)) {
            counters.of(result.login.tenantId).refusedConnects++;
            return callback(denied(`client id ${client.id} is another device's connection`, 2), false);
          }
          (client as SessionClient).civicloop = {
            tenantId: result.login.tenantId,
            device: result.device,
            username: username ?? result.device.id,
            counters: counters.of(result.login.tenantId),
            ownTracksKey: key,
          };
          // From here the connection is held to the post-authentication limits (connection-guard).
          if (client.conn instanceof GuardedConnection) client.conn.markAuthenticated();
          callback(null, true);
        },
        (error: unknown) => callback(Object.assign(error instanceof Error ? error : new Error(String(error)), { returnCode: 3 }) as AuthenticateError, false),
      );
  };
}
