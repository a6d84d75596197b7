import type { RequestOptions, Transport } from './transport.js';

/** A browser's anonymous resident identity. Keep `deviceSecret` where the browser keeps secrets. */
export interface AnonymousResident {
  residentId: string;
  deviceSecret: string;
  token: string;
  expiresAt: string;
}

/**
 * Residents without a login on the host platform (call with the publishable key): an identity
 * bound to this browser, so it can follow its own reports.
 */
export class Residents {
  constructor(private readonly transport: Transport) {}

  createAnonymous(options?: RequestOptions): Promise<AnonymousResident> {
    return this.transport.request({ method: 'POST', path: '/v1/residents/anonymous', body: {}, ...(options ? { options } : {}) });
  }

  /** A fresh token for an identity made earlier by createAnonymous. */
  renewAnonymous(identity: Pick<AnonymousResident, 'residentId' | 'deviceSecret'>, options?: RequestOptions): Promise<Omit<AnonymousResident, 'deviceSecret'>> {
    const body = { residentId: identity.residentId, deviceSecret: identity.deviceSecret };
    return this.transport.request({ method: 'POST', path: '/v1/residents/anonymous/token', body, ...(options ? { options } : {}) });
  }
}
