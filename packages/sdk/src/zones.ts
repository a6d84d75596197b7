import type { CreateZoneInput, CrsName, InspectionRound, UpdateZoneInput, Zone } from '@civicloop/model';
import { crsQuery } from './crs.js';
import type { RequestOptions, Transport } from './transport.js';

const enc = encodeURIComponent;
const withOptions = (options?: RequestOptions) => (options ? { options } : {});

/** Zones and their routing rules: a new ticket inside a zone goes to the unit its rule names. */
export class Zones {
  constructor(private readonly transport: Transport) {}

  /** Zones; `crs` gives their outlines in that system (for a Chinese basemap). */
  async list(options?: RequestOptions & { crs?: CrsName }): Promise<Zone[]> {
    return (await this.transport.request<{ items: Zone[] }>({ method: 'GET', path: '/v1/zones', ...crsQuery(options), ...withOptions(options) })).items;
  }
  get(id: string, options?: RequestOptions & { crs?: CrsName }): Promise<Zone> {
    return this.transport.request({ method: 'GET', path: `/v1/zones/${enc(id)}`, ...crsQuery(options), ...withOptions(options) });
  }
  create(input: CreateZoneInput, options?: RequestOptions): Promise<Zone> {
    return this.transport.request({ method: 'POST', path: '/v1/zones', body: input, ...withOptions(options) });
  }
  update(id: string, patch: UpdateZoneInput, options?: RequestOptions): Promise<Zone> {
    return this.transport.request({ method: 'PATCH', path: `/v1/zones/${enc(id)}`, body: patch, ...withOptions(options) });
  }
  /**
   * The inspection round of an ISO week (2026-W47): per district, its must-check zone and villages
   * drawn at random, the same for the same seed (default: the tenant id).
   */
  inspectionRound(query: { week: string; seed?: string; villages?: number }, options?: RequestOptions): Promise<InspectionRound> {
    return this.transport.request({ method: 'GET', path: '/v1/inspections/round', query, ...withOptions(options) });
  }
  async remove(id: string, options?: RequestOptions): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: `/v1/zones/${enc(id)}`, ...withOptions(options) });
  }
}
