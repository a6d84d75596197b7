import type { AuthenticateError, Client, PublishPacket } from 'aedes';
import { PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, PROVISION_USERNAME, provisionFailure, type ProvisionResponse } from '@civicloop/model';
import type { Services } from '../../core/services.js';
import { answerProvisioning } from '../provisioning/answer.js';
import { DROPPED_TOPIC } from './authorize-publish.js';
import { provisioningClientId } from './client-ids.js';
import { GuardedConnection } from './connection-guard.js';
import { grantedQos, sendingQos } from './granted-qos.js';

type ProvisioningClient = Client & { civicloopProvisioning?: true };

/**
 * ThingsBoard's MQTT provisioning: a connection whose username (or client id) is `provision`,
 * with no password, may only publish its request on `/provision/request` and subscribe to
 * `/provision/response`, where it is answered. It counts as never authenticated: it is held to
 * the limits of a connection that has not yet logged in (MQTT_PREAUTH_MAX_BYTES in all, closed
 * after MQTT_CONNECT_TIMEOUT_MS), as ThingsBoard closes a provisioning connection after its answer.
 */
export function isProvisioningConnect(client: Client, username: string | undefined, password: Buffer | undefined): boolean {
  return (!password || password.length === 0) && (username === PROVISION_USERNAME || client.id === PROVISION_USERNAME);
}

export const isProvisioningClient = (client: Client | null): boolean => (client as ProvisioningClient | null)?.civicloopProvisioning === true;

/**
 * aedes' authenticate for a provisioning connection: accepted unless its address is past its
 * failed-login limit, under a client id of its own and without a persistent session.
 */
export function acceptProvisioning(
  services: Pick<Services, 'addressLimits'>,
  client: Client,
  callback: (error: AuthenticateError | null, success: boolean | null) => void,
): void {
  const address = client.conn instanceof GuardedConnection ? client.conn.address : undefined;
  if (address && services.addressLimits.isBlocked(address))
    return callback(Object.assign(new Error('too many failed logins from this address'), { returnCode: 5 }) as AuthenticateError, false);
  (client as ProvisioningClient).civicloopProvisioning = true;
  // Before aedes registers it under its client id: a client id of its own, so that naming a
  // device's (or another provisioning connection's) closes nobody. Nor is a session kept for it
  // (answered sessionPresent 0 whatever it asked): each connection is one request, and a session
  // kept per made-up client id would let anyone fill the broker's memory without credentials.
  client.id = provisioningClientId();
  client.clean = true;
  callback(null, true);
}

/** What a provisioning connection may subscribe to: where its answer comes. */
export const mayProvisioningSubscribe = (topic: string): boolean => topic === PROVISION_RESPONSE_TOPIC;

/**
 * aedes' authorizePublish for a provisioning connection. Its request is acknowledged and answered
 * on `/provision/response`, to it alone, at the QoS its subscription was granted (0 without one,
 * as ThingsBoard sends the answer whether or not the firmware subscribed). Any other topic closes
 * the connection, as ThingsBoard does; so does a failure to reach Redis, without an answer.
 */
export function handleProvisioningPublish(
  services: Pick<Services, 'provisioning' | 'addressLimits' | 'now' | 'log'>,
  client: Client,
  packet: PublishPacket,
  callback: (error?: Error | null) => void,
): void {
  if (packet.topic !== PROVISION_REQUEST_TOPIC) return callback(new Error(`a provisioning connection may publish only to ${PROVISION_REQUEST_TOPIC}`));
  const address = client.conn instanceof GuardedConnection ? client.conn.address : undefined;
  answerProvisioning(services, address, packet.payload as Buffer).then(
    (answer) => {
      // Nobody else ever receives a provisioning request: it carries the profile's secret.
      packet.topic = DROPPED_TOPIC;
      packet.payload = Buffer.alloc(0);
      packet.retain = false;
      callback(null);
      answerOn(client, 'unreadable' in answer ? provisionFailure(answer.unreadable) : answer.response);
    },
    (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
  );
}

function answerOn(client: Client, response: ProvisionResponse): void {
  if (client.closed) return;
  const granted = grantedQos(client, PROVISION_RESPONSE_TOPIC);
  const qos = granted === undefined ? 0 : sendingQos(granted);
  client.publish(
    { cmd: 'publish', topic: PROVISION_RESPONSE_TOPIC, payload: Buffer.from(JSON.stringify(response)), qos, retain: false, dup: false },
    () => undefined,
  );
}
