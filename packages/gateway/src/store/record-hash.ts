import type { ChainableCommander, Redis, Cluster } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';

type Client = Redis | Cluster;

/** Records of one kind kept as JSON in one hash per tenant, by id. */
export class RecordHash<T extends { id: string; updatedAt: string }> {
  constructor(
    private readonly redis: Client,
    private readonly key: (tenantId: string) => string,
    private readonly what: string,
  ) {}

  async insert(tenantId: string, record: T): Promise<T> {
    const created = await this.redis.hsetnx(this.key(tenantId), record.id, JSON.stringify(record));
    if (!created) throw new CivicLoopError('CL_ERR_ALREADY_EXISTS', `${this.what} ${record.id} already exists; pick another id, or change it with PATCH.`);
    return record;
  }

  /**
   * Changes a record. `alongside` adds writes of the same tenant's keys that must be made in the
   * same transaction (MULTI), so that the record never says what those keys do not hold.
   */
  async patch(tenantId: string, id: string, patch: Partial<T>, now: Date, alongside?: (tx: ChainableCommander) => void): Promise<T> {
    const current = await this.get(tenantId, id);
    if (!current) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ${this.what.toLowerCase()} ${id} in this tenant.`);
    const next: T = Object.assign({}, current, patch, { updatedAt: now.toISOString() });
    if (!alongside) {
      await this.redis.hset(this.key(tenantId), id, JSON.stringify(next));
      return next;
    }
    const tx = this.redis.multi().hset(this.key(tenantId), id, JSON.stringify(next));
    alongside(tx);
    const failed = (await tx.exec())?.find(([error]) => error)?.[0];
    if (failed) throw failed;
    return next;
  }

  async get(tenantId: string, id: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.key(tenantId), id);
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  async list(tenantId: string): Promise<T[]> {
    const raw = await this.redis.hvals(this.key(tenantId));
    return raw.map((r) => JSON.parse(r) as T).sort((a, b) => a.id.localeCompare(b.id));
  }
}
