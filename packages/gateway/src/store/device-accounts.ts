import type { Device } from '@civicloop/model';

/**
 * Device accounts kept somewhere besides the gateway's registry: an external broker's own user
 * list (mosquitto's dynamic security plugin). The device store calls these before it changes the
 * device in Redis, so that a broker that refuses leaves the device as it was.
 */
export interface DeviceAccounts {
  /** What the device logs in to the broker with, as username. */
  username(tenantId: string, deviceId: string): string;
  /** A new device, with the secret it was just given. */
  create(tenantId: string, device: Device, secret: string): Promise<void>;
  /** Undoes create when the registry could not finish the registration. */
  remove(tenantId: string, deviceId: string): Promise<void>;
  /** The device's secret was rotated: the old one stops working at the broker at once. */
  setSecret(tenantId: string, device: Device, secret: string): Promise<void>;
  /** Disabled or enabled again; disabling closes its connection to the broker. */
  setDisabled(tenantId: string, device: Device, disabled: boolean): Promise<void>;
}

/** Only devices that speak MQTT have a broker account; JT/T 808 terminals talk to the gateway itself. */
export const hasBrokerAccount = (device: Pick<Device, 'protocol'>) => (device.protocol ?? 'mqtt') === 'mqtt';
