import { CivicLoopError, parseProvisionRequest, type ProvisionResponse } from '@civicloop/model';
import type { Services } from '../../core/services.js';

/**
 * A device's provisioning request, over HTTP or MQTT, answered as ThingsBoard answers it. A key
 * or secret nobody has (NOT_FOUND) counts as a failed login of the address, so that guessing is
 * held to the address's failed-login limit (RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS) as a wrong
 * device secret is; an address past it is refused before the request is looked at.
 *
 * A body that is no provisioning request is `unreadable`: HTTP answers it 400, MQTT with
 * ThingsBoard's FAILURE. Only a failure to reach Redis throws.
 */
export async function answerProvisioning(
  services: Pick<Services, 'provisioning' | 'addressLimits' | 'now' | 'log'>,
  address: string | undefined,
  body: Buffer,
): Promise<{ response: ProvisionResponse } | { unreadable: string }> {
  if (address) services.addressLimits.assertNotBlocked(address);
  const request = parseProvisionRequest(body);
  if ('refused' in request) return { unreadable: request.refused };
  const outcome = await services.provisioning.provision(request, services.now());
  if (outcome.response.status === 'NOT_FOUND' && address) {
    const wait = await services.addressLimits.noteAuthFailure(address);
    if (wait !== undefined)
      throw new CivicLoopError('CL_ERR_RATE_LIMITED', `Too many failed authentications from this address; wait ${wait} s.`, { retryAfterSeconds: wait });
  }
  if (outcome.deviceId) services.log?.info({ tenantId: outcome.tenantId, deviceId: outcome.deviceId }, 'device provisioned');
  // The secret works, but the batch it was made for is all provisioned: a copy of it may be out.
  if (outcome.limitReached)
    services.log?.warn({ tenantId: outcome.tenantId, ...outcome.limitReached }, 'provisioning refused: the profile has provisioned its maxDevices');
  return outcome;
}
