import type { Category, CategoryCatalogue, CategoryChange, CategoryDefinition } from '@civicloop/model';
import type { RequestOptions, Transport } from './transport.js';

const enc = encodeURIComponent;
const withOptions = (options?: RequestOptions) => (options ? { options } : {});

/**
 * The tenant's catalogue of categories: the built-in list with the tenant's own definitions
 * (added, renamed, re-timed, disabled, with extra questions). Tickets keep the definition they
 * were reported under; a change applies to later reports.
 */
export class Catalogue {
  constructor(private readonly transport: Transport) {}

  /** The categories reports may be made under; with `all` (staff), the disabled ones too. */
  list(query: { all?: boolean } = {}, options?: RequestOptions): Promise<CategoryCatalogue> {
    return this.transport.request({ method: 'GET', path: '/v1/categories', ...(query.all ? { query: { all: true } } : {}), ...withOptions(options) });
  }

  /** Admins: defines a new category, or the tenant's own version of a built-in one. */
  define(code: string, definition: CategoryDefinition, options?: RequestOptions): Promise<Category> {
    return this.transport.request({ method: 'PUT', path: `/v1/categories/${enc(code)}`, body: definition, ...withOptions(options) });
  }

  /** Admins: changes some fields (rename, re-time, disable...); with expectedVersion, only if unchanged since. */
  change(code: string, change: CategoryChange, options?: RequestOptions): Promise<Category> {
    return this.transport.request({ method: 'PATCH', path: `/v1/categories/${enc(code)}`, body: change, ...withOptions(options) });
  }
}
