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

/** A tenant's units (the responsible departments) and staff (who may be assigned). */
export class DirectoryStore {
  constructor(private readonly redis: Client) {}

  async createUnit(tenantId: string, input: CreateUnitInput, now = new Date()): Promise<Unit> {
    checkCategories(input.categories);
    const at = now.toISOString();
    const unit: Unit = {
      id: input.id ?? `u_${randomBytes(5).toString('hex')}`,
      name: input.name,
      categories: input.categories ?? [],
      active: true,
      createdAt: at,
      updatedAt: at,
      ...(input.phone ? { phone: input.phone } : {}),
    };
    const created = await this.redis.hsetnx(tenantKeys(tenantId).units, unit.id, JSON.stringify(unit));
    if (!created) throw new CivicLoopError('CL_ERR_VALIDATION', `Unit id ${unit.id} already exists; pick another id or update it with PATCH.`);
    return unit;
  }

  async updateUnit(tenantId: string, id: string, patch: UpdateUnitInput, now = new Date()): Promise<Unit> {
    checkCategories(patch.categories);
    const unit = await this.getUnit(tenantId, id);
    if (!unit) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No unit ${id} in this tenant.`);
    const next: Unit = { ...unit, ...patch, updatedAt: now.toISOString() };
    await this.redis.hset(tenantKeys(tenantId).units, id, JSON.stringify(next));
    return next;
  }

  async getUnit(tenantId: string, id: string): Promise<Unit | undefined> {
    const raw = await this.redis.hget(tenantKeys(tenantId).units, id);
    return raw ? (JSON.parse(raw) as Unit) : undefined;
  }

  async listUnits(tenantId: string): Promise<Unit[]> {
    const raw = await this.redis.hvals(tenantKeys(tenantId).units);
    return raw.map((r) => JSON.parse(r) as Unit).sort((a, b) => a.id.localeCompare(b.id));
  }

  async createStaff(tenantId: string, input: CreateStaffInput, now = new Date()): Promise<Staff> {
    if (input.unitId && !(await this.getUnit(tenantId, input.unitId))) {
      throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${input.unitId} does not exist; create it first with POST /v1/units.`);
    }
    const at = now.toISOString();
    const staff: Staff = {
      id: input.id ?? `s_${randomBytes(5).toString('hex')}`,
      name: input.name,
      role: input.role,
      skills: input.skills ?? [],
      active: true,
      createdAt: at,
      updatedAt: at,
      ...(input.unitId ? { unitId: input.unitId } : {}),
      ...(input.phone ? { phone: input.phone } : {}),
    };
    const created = await this.redis.hsetnx(tenantKeys(tenantId).staff, staff.id, JSON.stringify(staff));
    if (!created) throw new CivicLoopError('CL_ERR_VALIDATION', `Staff id ${staff.id} already exists; pick another id or update it with PATCH.`);
    return staff;
  }

  async updateStaff(tenantId: string, id: string, patch: UpdateStaffInput, now = new Date()): Promise<Staff> {
    const staff = await this.getStaff(tenantId, id);
    if (!staff) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No staff member ${id} in this tenant.`);
    if (patch.unitId && !(await this.getUnit(tenantId, patch.unitId))) {
      throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${patch.unitId} does not exist; create it first with POST /v1/units.`);
    }
    const next: Staff = { ...staff, ...patch, updatedAt: now.toISOString() };
    await this.redis.hset(tenantKeys(tenantId).staff, id, JSON.stringify(next));
    return next;
  }

  async getStaff(tenantId: string, id: string): Promise<Staff | undefined> {
    const raw = await this.redis.hget(tenantKeys(tenantId).staff, id);
    return raw ? (JSON.parse(raw) as Staff) : undefined;
  }

  async listStaff(tenantId: string): Promise<Staff[]> {
    const raw = await this.redis.hvals(tenantKeys(tenantId).staff);
    return raw.map((r) => JSON.parse(r) as Staff).sort((a, b) => a.id.localeCompare(b.id));
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
