import type { CreatePartnerInput, Partner, PartnerKeys, UpdatePartnerInput } from '@civicloop/model';
import type { RequestOptions, Transport } from './transport.js';

const enc = encodeURIComponent;
const withOptions = (options?: RequestOptions) => (options ? { options } : {});

/**
 * Partners (property platforms) of the tenant: created and managed by its admins; a partner reads
 * its own record and rotates its own keys (docs/partners.md).
 */
export class Partners {
  constructor(private readonly transport: Transport) {}

  /** Creates a partner; its keys are in the answer and shown only this once. */
  create(input: CreatePartnerInput, options?: RequestOptions): Promise<PartnerKeys> {
    return this.transport.request({ method: 'POST', path: '/v1/partners', body: input, ...withOptions(options) });
  }
  async list(options?: RequestOptions): Promise<Partner[]> {
    return (await this.transport.request<{ items: Partner[] }>({ method: 'GET', path: '/v1/partners', ...withOptions(options) })).items;
  }
  get(id: string, options?: RequestOptions): Promise<Partner> {
    return this.transport.request({ method: 'GET', path: `/v1/partners/${enc(id)}`, ...withOptions(options) });
  }
  update(id: string, patch: UpdatePartnerInput, options?: RequestOptions): Promise<Partner> {
    return this.transport.request({ method: 'PATCH', path: `/v1/partners/${enc(id)}`, body: patch, ...withOptions(options) });
  }
  /** Disables it: its keys and its residents' tokens stop working, its webhooks are removed. */
  disable(id: string, options?: RequestOptions): Promise<Partner> {
    return this.transport.request({ method: 'DELETE', path: `/v1/partners/${enc(id)}`, ...withOptions(options) });
  }
  /** A new key of the kind; the partner's previous keys of that kind stop working. Returns the key (shown once). */
  async rotateKey(id: string, kind: 'secret' | 'publishable', options?: RequestOptions): Promise<string> {
    return (
      await this.transport.request<{ key: string }>({ method: 'POST', path: `/v1/partners/${enc(id)}/keys/rotate`, body: { kind }, ...withOptions(options) })
    ).key;
  }
}
