import type { Services } from '../core/services.js';

/**
 * For the device protocols over HTTP: an address past its failed-login limit is refused (429)
 * without a lookup, unless this gateway verified the secret within the last day, as on MQTT and
 * JT/T 808. Phones on one carrier share its addresses; one with a stale secret retrying must not
 * shut the others out.
 */
export function refuseBlockedAddress(services: Pick<Services, 'addressLimits' | 'devices'>, address: string, secret: string): void {
  if (services.addressLimits.isBlocked(address) && !services.devices.verifiedRecently(secret)) services.addressLimits.assertNotBlocked(address);
}
