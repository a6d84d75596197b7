import { randomUUID } from 'node:crypto';
import { finished } from 'node:stream';
import type { Client } from 'aedes';

/**
 * Whose connection each MQTT client id on this broker is. MQTT has the server close a connected
 * client when a new CONNECT names its client id [MQTT-3.1.4-2], and aedes does so for whoever
 * authenticates: unchecked, a provisioning connection (which needs no credentials) or another
 * device could close any device's connection by naming its client id, again and again. So a
 * client id is the device's whose connection holds it: the same device may connect under it again
 * (its older connection is then closed, as MQTT says), another device is refused until the
 * holder's connection has ended. Held from authentication, before aedes registers the client, so
 * two devices' CONNECTs naming one id at once cannot both pass.
 */
export class ClientIdClaims {
  private readonly holders = new Map<string, { client: Client; device: string }>();

  /**
   * Whether `client` may go on under its client id as `device` (tenant and device id); if so it
   * holds the id until its connection ends.
   */
  claim(client: Client, device: string): boolean {
    const { id } = client;
    const held = this.holders.get(id);
    if (held && held.device !== device && !held.client.closed) return false;
    this.holders.set(id, { client, device });
    finished(client.conn, () => {
      if (this.holders.get(id)?.client === client) this.holders.delete(id);
    });
    return true;
  }
}

/**
 * A provisioning connection's client id on this broker, whatever its CONNECT named: its own, so
 * that it never closes another connection nor is closed by one (firmware often names `provision`,
 * and many may provision at once, as ThingsBoard allows).
 */
export const provisioningClientId = (): string => `provision/${randomUUID()}`;
