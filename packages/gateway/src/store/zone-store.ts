import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type CategoryLookup, type CreateZoneInput, type CrsName, type Zone, type ZoneGeometry } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import type { DirectoryStore } from './directory-store.js';
import { RecordHash } from './record-hash.js';
import type { CategoryStore } from './category-store.js';
import { TtlCache } from './ttl-cache.js';

type Client = Redis | Cluster;

const invalid = (message: string) => new CivicLoopError('CL_ERR_VALIDATION', message);

/** A zone as the routes hand it over: its outline in WGS-84, without altitudes (geometry/crs.ts). */
export type ZoneToStore = Omit<CreateZoneInput, 'crs' | 'geometry'> & { geometry: ZoneGeometry };

/** Shape is checked by the schema; what it cannot say (closed rings, known units) is checked here. */
function checkGeometry(id: string, geometry: ZoneGeometry): void {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const [p, rings] of polygons.entries()) {
    for (const [r, ring] of rings.entries()) {
      const [first, last] = [ring[0]!, ring[ring.length - 1]!];
      if (first[0] !== last[0] || first[1] !== last[1]) {
        throw invalid(`Zone ${id}: ring ${r + 1} of polygon ${p + 1} is not closed; repeat its first position at the end.`);
      }
    }
  }
}

function checkCategoryPatterns(codes: string[], find: CategoryLookup): void {
  const unknown = codes.filter((code) => code !== '*' && !code.endsWith('.*') && !find(code));
  if (unknown.length)
    throw new CivicLoopError('CL_ERR_UNKNOWN_CATEGORY', `Unknown category codes in routes: ${unknown.join(', ')}; list valid codes with GET /v1/categories.`, {
      unknown,
    });
}

/** A tenant's zones: areas with the units responsible in them, read on every new ticket. */
export class ZoneStore {
  private readonly records: RecordHash<Zone>;
  // Zones change rarely and are read per ticket: cached, dropped on every write through this store.
  private readonly cache: TtlCache<Zone[]>;

  constructor(
    private readonly redis: Client,
    private readonly directory: DirectoryStore,
    private readonly categories: CategoryStore,
    cacheTtlMs: number,
  ) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).zones, 'Zone');
    this.cache = new TtlCache(cacheTtlMs);
  }

  private async check(tenantId: string, id: string, zone: Partial<ZoneToStore>): Promise<void> {
    if (zone.geometry) checkGeometry(id, zone.geometry);
    if (zone.parentId !== undefined) {
      if (zone.parentId === id) throw invalid(`Zone ${id} cannot be its own parent.`);
      if (!(await this.records.get(tenantId, zone.parentId)))
        throw new CivicLoopError('CL_ERR_NOT_FOUND', `Parent zone ${zone.parentId} does not exist; create it first.`);
    }
    const find = zone.routes?.length ? await this.categories.lookup(tenantId) : undefined;
    for (const route of zone.routes ?? []) {
      checkCategoryPatterns(route.categories, find!);
      if (!(await this.directory.getUnit(tenantId, route.unitId))) {
        throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${route.unitId} (in a route of zone ${id}) does not exist; create it with POST /v1/units.`);
      }
    }
  }

  /** `input.geometry` is WGS-84 by now; `drawnIn` records the system it was drawn in. */
  async create(tenantId: string, input: ZoneToStore, now: Date, drawnIn: CrsName = 'wgs84'): Promise<Zone> {
    await this.check(tenantId, input.id, input);
    const at = now.toISOString();
    const zone: Zone = {
      id: input.id,
      name: input.name,
      type: input.type,
      geometry: input.geometry,
      ...(drawnIn !== 'wgs84' ? { drawnIn } : {}),
      routes: input.routes ?? [],
      createdAt: at,
      updatedAt: at,
      ...(input.parentId ? { parentId: input.parentId } : {}),
      ...(input.mustCheck ? { mustCheck: true } : {}),
    };
    await this.records.insert(tenantId, zone);
    this.cache.delete(tenantId);
    return zone;
  }

  async update(tenantId: string, id: string, patch: Partial<Omit<ZoneToStore, 'id'>> & { drawnIn?: CrsName }, now: Date): Promise<Zone> {
    await this.check(tenantId, id, patch);
    const zone = await this.records.patch(tenantId, id, patch, now);
    this.cache.delete(tenantId);
    return zone;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const children = (await this.list(tenantId)).filter((z) => z.parentId === id).map((z) => z.id);
    if (children.length) throw new CivicLoopError('CL_ERR_VALIDATION', `Zone ${id} is the parent of ${children.join(', ')}; delete or move those first.`);
    const removed = await this.redis.hdel(tenantKeys(tenantId).zones, id);
    if (!removed) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No zone ${id} in this tenant.`);
    this.cache.delete(tenantId);
  }

  get(tenantId: string, id: string): Promise<Zone | undefined> {
    return this.records.get(tenantId, id);
  }

  list(tenantId: string): Promise<Zone[]> {
    return this.records.list(tenantId);
  }

  /** All zones, from the cache when fresh (other gateways' writes show within AUTH_CACHE_TTL_MS). */
  async all(tenantId: string): Promise<Zone[]> {
    const cached = this.cache.get(tenantId);
    if (cached) return cached;
    const zones = await this.list(tenantId);
    this.cache.set(tenantId, zones);
    return zones;
  }
}
