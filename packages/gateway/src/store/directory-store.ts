import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import {
  CivicLoopError,
  findCategory,
  type CreateStaffInput,
  type CreateUnitInput,
  type Staff,
  type Unit,
  type UpdateStaffInput,
  type UpdateUnitInput,
} from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';

type Client = Redis | Cluster;

function checkCategories(codes: string[] | undefined): void {
  const unknown = (codes ?? []).filter((code) => !findCategory(code));
  if (unknown.length > 0) {
    throw new CivicLoopError('CL_ERR_UNKNOWN_CATEGORY', `Unknown category codes: ${unknown.join(', ')}; list valid codes with GET /v1/categories.`, { unknown });
  }
}

/** Records of one kind kept as JSON in one hash per tenant, by id. */
class RecordHash<T extends { id: string; updatedAt: string }> {
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

  async patch(tenantId: string, id: string, patch: Partial<T>, now: Date): Promise<T> {
    const current = await this.get(tenantId, id);
    if (!current) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No ${this.what.toLowerCase()} ${id} in this tenant.`);
    const next: T = Object.assign({}, current, patch, { updatedAt: now.toISOString() });
    await this.redis.hset(this.key(tenantId), id, JSON.stringify(next));
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

/** A tenant's units (the responsible departments) and staff (who may be assigned). */
export class DirectoryStore {
  private readonly units: RecordHash<Unit>;
  private readonly staff: RecordHash<Staff>;

  constructor(redis: Client) {
    this.units = new RecordHash(redis, (t) => tenantKeys(t).units, 'Unit');
    this.staff = new RecordHash(redis, (t) => tenantKeys(t).staff, 'Staff member');
  }

  async createUnit(tenantId: string, input: CreateUnitInput, now = new Date()): Promise<Unit> {
    checkCategories(input.categories);
    const at = now.toISOString();
    return this.units.insert(tenantId, {
      id: input.id ?? `u_${randomBytes(5).toString('hex')}`,
      name: input.name,
      categories: input.categories ?? [],
      active: true,
      createdAt: at,
      updatedAt: at,
      ...(input.phone ? { phone: input.phone } : {}),
    });
  }

  async updateUnit(tenantId: string, id: string, patch: UpdateUnitInput, now = new Date()): Promise<Unit> {
    checkCategories(patch.categories);
    return this.units.patch(tenantId, id, patch, now);
  }

  getUnit(tenantId: string, id: string): Promise<Unit | undefined> {
    return this.units.get(tenantId, id);
  }

  listUnits(tenantId: string): Promise<Unit[]> {
    return this.units.list(tenantId);
  }

  async createStaff(tenantId: string, input: CreateStaffInput, now = new Date()): Promise<Staff> {
    await this.mustHaveUnit(tenantId, input.unitId);
    const at = now.toISOString();
    return this.staff.insert(tenantId, {
      id: input.id ?? `s_${randomBytes(5).toString('hex')}`,
      name: input.name,
      role: input.role,
      skills: input.skills ?? [],
      active: true,
      createdAt: at,
      updatedAt: at,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.phone ? { phone: input.phone } : {}),
    });
  }

  async updateStaff(tenantId: string, id: string, patch: UpdateStaffInput, now = new Date()): Promise<Staff> {
    await this.mustHaveUnit(tenantId, patch.unitId);
    return this.staff.patch(tenantId, id, patch, now);
  }

  getStaff(tenantId: string, id: string): Promise<Staff | undefined> {
    return this.staff.get(tenantId, id);
  }

  listStaff(tenantId: string): Promise<Staff[]> {
    return this.staff.list(tenantId);
  }

  private async mustHaveUnit(tenantId: string, unitId: string | undefined): Promise<void> {
    if (unitId && !(await this.getUnit(tenantId, unitId))) {
      throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${unitId} does not exist; create it first with POST /v1/units.`);
    }
  }

  /** Checks a dispatch target: the unit exists and is active, the assignee is an active member of it. */
  async checkAssignment(tenantId: string, unitId: string, assigneeId: string | undefined): Promise<void> {
    const unit = await this.getUnit(tenantId, unitId);
    if (!unit || !unit.active) throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${unitId} does not exist or is inactive; pick one from GET /v1/units.`);
    if (!assigneeId) return;
    const staff = await this.getStaff(tenantId, assigneeId);
    if (!staff || !staff.active) throw new CivicLoopError('CL_ERR_UNKNOWN_STAFF', `Staff member ${assigneeId} does not exist or is inactive; pick one from GET /v1/staff.`);
    if (staff.unitId !== unitId) {
      throw new CivicLoopError('CL_ERR_STAFF_NOT_IN_UNIT', `${assigneeId} belongs to unit ${staff.unitId ?? '(none)'}, not ${unitId}; pick a member of ${unitId}.`);
    }
  }
}
