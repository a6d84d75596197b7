import type { CreateProvisioningProfileInput, IssuedProvisioningProfile, ProvisioningProfile, UpdateProvisioningProfileInput } from '@civicloop/model';
import type { RequestOptions, Transport } from './transport.js';

const enc = encodeURIComponent;
const withOptions = (options?: RequestOptions) => (options ? { options } : {});

/**
 * Provisioning profiles (admins): devices flashed with a profile's key and secret register themselves, over MQTT or
 * HTTP, as ThingsBoard's device provisioning has it (docs/devices.md).
 */
export class ProvisioningProfiles {
  constructor(private readonly transport: Transport) {}
  /** Makes a profile; the returned provisionDeviceSecret is shown only now. */
  create(input: CreateProvisioningProfileInput, options?: RequestOptions): Promise<IssuedProvisioningProfile> {
    return this.transport.request({ method: 'POST', path: '/v1/provisioning-profiles', body: input, ...withOptions(options) });
  }
  async list(options?: RequestOptions): Promise<ProvisioningProfile[]> {
    return (await this.transport.request<{ items: ProvisioningProfile[] }>({ method: 'GET', path: '/v1/provisioning-profiles', ...withOptions(options) }))
      .items;
  }
  /** Renames a profile or changes the most devices it provisions (`maxDevices: null` for no limit). */
  update(id: string, input: UpdateProvisioningProfileInput, options?: RequestOptions): Promise<ProvisioningProfile> {
    return this.transport.request({ method: 'PATCH', path: `/v1/provisioning-profiles/${enc(id)}`, body: input, ...withOptions(options) });
  }
  /** A new secret for the profile's key, shown only now: the old one provisions nothing more; provisioned devices keep their tokens. */
  rotateSecret(id: string, options?: RequestOptions): Promise<IssuedProvisioningProfile> {
    return this.transport.request({ method: 'POST', path: `/v1/provisioning-profiles/${enc(id)}/secret`, ...withOptions(options) });
  }
  /** Deletes a profile: its key provisions nothing more; the devices it provisioned stay. */
  async remove(id: string, options?: RequestOptions): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: `/v1/provisioning-profiles/${enc(id)}`, ...withOptions(options) });
  }
}
