import type { HotlineImportResult, HotlineRecord } from '@civicloop/model';
import type { RequestOptions, Transport } from './transport.js';

/** Cases from other channels (dispatcher token or secret key). */
export class Intake {
  constructor(private readonly transport: Transport) {}

  /**
   * Imports 12345 / 12319 hotline cases: an array of records, or CSV text with a header row.
   * Good rows become tickets, case numbers seen before return their ticket under `duplicates`,
   * bad rows come back under `errors` with their reason. Safe to send again: nothing doubles.
   */
  hotline(records: HotlineRecord[] | string, options?: RequestOptions): Promise<HotlineImportResult> {
    const body = typeof records === 'string' ? new Blob([records], { type: 'text/csv' }) : { records };
    return this.transport.request({ method: 'POST', path: '/v1/intake/hotline', body, ...(options ? { options } : {}) });
  }
}
