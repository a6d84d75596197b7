import type { Redis, Cluster } from 'ioredis';
import {
  CivicLoopError,
  TenantCatalogue,
  changedDefinition,
  checkCategoryDefinition,
  type Category,
  type CategoryChange,
  type CategoryDefinition,
  type CategoryLookup,
} from '@civicloop/model';
import { registerScripts } from '../redis/scripts/index.js';
import { tenantKeys } from '../redis/keys.js';
import { TtlCache } from './ttl-cache.js';

type Client = Redis | Cluster;

/**
 * How often a change is made again on a category that moved on while it was being made. Each
 * lost attempt means another change landed, so this many only fails when more than this many
 * changes of one category arrive at once.
 */
const CHANGE_ATTEMPTS = 32;

/** A few milliseconds at random between attempts, so writers that collided do not collide again. */
const jitter = () => new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 9));

/**
 * Each tenant's catalogue: the built-in categories with the tenant's own definitions (added,
 * renamed, re-timed, disabled, with extra questions). Read on every report, so cached for
 * AUTH_CACHE_TTL_MS like the tenant itself: another gateway sees a change within that time.
 */
export class CategoryStore {
  private readonly cache: TtlCache<TenantCatalogue>;

  constructor(
    private readonly redis: Client,
    cacheTtlMs: number,
  ) {
    this.cache = new TtlCache(cacheTtlMs);
    registerScripts(redis);
  }

  async catalogue(tenantId: string): Promise<TenantCatalogue> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    const stored = await this.redis.hgetall(tenantKeys(tenantId).categories);
    const own = Object.entries(stored)
      .filter(([field]) => field.startsWith('c:'))
      .map(([field, json]) => ({ ...(JSON.parse(json) as Category), version: Number(stored[`v:${field.slice(2)}`]) }));
    const catalogue = new TenantCatalogue(own);
    this.cache.set(tenantId, catalogue);
    return catalogue;
  }

  /** The tenant's lookup, for checks that name categories (units, zones, policy). */
  async lookup(tenantId: string): Promise<CategoryLookup> {
    return (await this.catalogue(tenantId)).find;
  }

  /** Defines a category: a new one, or the tenant's own version of an existing one. */
  async define(tenantId: string, code: string, definition: CategoryDefinition): Promise<Category> {
    checkCategoryDefinition(code, definition);
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const current = (await this.fresh(tenantId)).find(code);
      const written = await this.write(tenantId, code, current?.version ?? 0, definition);
      if (written) return written;
      await jitter();
    }
    throw new CivicLoopError('CL_ERR_CATEGORY_CHANGED', `Category ${code} kept changing while it was being defined; try again.`);
  }

  /** Changes some of a category's fields; with expectedVersion, only if nobody changed it since. */
  async change(tenantId: string, code: string, change: CategoryChange): Promise<Category> {
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const current = (await this.fresh(tenantId)).find(code);
      if (!current)
        throw new CivicLoopError('CL_ERR_UNKNOWN_CATEGORY', `No category ${code}; define a new one with PUT /v1/categories/${code}.`, { category: code });
      const version = current.version ?? 0;
      if (change.expectedVersion !== undefined && change.expectedVersion !== version) {
        throw new CivicLoopError(
          'CL_ERR_CATEGORY_CHANGED',
          `Category ${code} is at version ${version}, not ${change.expectedVersion}; read it again and retry.`,
          { version },
        );
      }
      const definition = changedDefinition(current, change);
      checkCategoryDefinition(code, definition);
      const written = await this.write(tenantId, code, version, definition);
      if (written) return written;
      if (change.expectedVersion !== undefined)
        throw new CivicLoopError('CL_ERR_CATEGORY_CHANGED', `Category ${code} changed meanwhile; read it again and retry.`);
      await jitter();
    }
    throw new CivicLoopError('CL_ERR_CATEGORY_CHANGED', `Category ${code} kept changing while it was being changed; try again.`);
  }

  /** The catalogue as Redis has it now (a write must not start from a cached copy). */
  private async fresh(tenantId: string): Promise<TenantCatalogue> {
    this.cache.delete(tenantId);
    return this.catalogue(tenantId);
  }

  private async write(tenantId: string, code: string, expected: number, definition: CategoryDefinition): Promise<Category | undefined> {
    const stored: Omit<Category, 'version'> = { code, ...definition };
    const version = await this.redis.civicloopWriteCategory(1, tenantKeys(tenantId).categories, code, String(expected), JSON.stringify(stored));
    this.cache.delete(tenantId);
    return version < 0 ? undefined : { ...stored, version };
  }
}
