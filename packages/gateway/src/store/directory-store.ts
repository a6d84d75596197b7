import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import {
  CivicLoopError,
  reservedSubject,
  type CreateStaffInput,
  type CreateUnitInput,
  type Staff,
  type Unit,
  type UpdateStaffInput,
  type UpdateUnitInput,
} from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import type { CategoryStore } from './category-store.js';
import { registerScripts } from '../redis/scripts/index.js';
import { RecordHash } from './record-hash.js';

type Client = Redis | Cluster;

async function checkCategories(categories: CategoryStore, tenantId: string, codes: string[] | undefined): Promise<void> {
  if (!codes?.length) return;
  const find = await categories.lookup(tenantId);
  const unknown = codes.filter((code) => !find(code));
  if (unknown.length > 0) {
    throw new CivicLoopError('CL_ERR_UNKNOWN_CATEGORY', `Unknown category codes: ${unknown.join(', ')}; list valid codes with GET /v1/categories.`, {
      unknown,
    });
  }
}

/** A tenant's units (the responsible departments) and staff (who may be assigned). */
export class DirectoryStore {
  private readonly units: RecordHash<Unit>;
  private readonly staff: RecordHash<Staff>;

  constructor(
    private readonly redis: Client,
    private readonly categories: CategoryStore,
  ) {
    registerScripts(redis);
    this.units = new RecordHash(redis, (t) => tenantKeys(t).units, 'Unit');
    this.staff = new RecordHash(redis, (t) => tenantKeys(t).staff, 'Staff member');
  }

  async createUnit(tenantId: string, input: CreateUnitInput, now = new Date()): Promise<Unit> {
    await checkCategories(this.categories, tenantId, input.categories);
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
    await checkCategories(this.categories, tenantId, patch.categories);
    return this.units.patch(tenantId, id, patch, now);
  }

  getUnit(tenantId: string, id: string): Promise<Unit | undefined> {
    return this.units.get(tenantId, id);
  }

  listUnits(tenantId: string): Promise<Unit[]> {
    return this.units.list(tenantId);
  }

  async createStaff(tenantId: string, input: CreateStaffInput, now = new Date()): Promise<Staff> {
    // A staff id is the sub of that person's tokens: it may not be a built-in principal's.
    const reserved = input.id ? reservedSubject(input.id) : undefined;
    if (reserved) throw new CivicLoopError('CL_ERR_VALIDATION', `Staff id ${input.id}: ${reserved}; pick another id.`);
    await this.mustHaveUnit(tenantId, input.unitId);
    const at = now.toISOString();
    const id = input.id ?? `s_${randomBytes(5).toString('hex')}`;
    const code = input.qualificationCode;
    if (code) await this.claimQualification(tenantId, code, id);
    try {
      return await this.staff.insert(tenantId, {
        id,
        name: input.name,
        role: input.role,
        skills: input.skills ?? [],
        active: true,
        createdAt: at,
        updatedAt: at,
        ...(input.unitId ? { unitId: input.unitId } : {}),
        ...(input.phone ? { phone: input.phone } : {}),
        ...(code ? { qualificationCode: code } : {}),
      });
    } catch (error) {
      // The id was taken: the code goes back to whoever had it (nobody, or that same member).
      if (code && !(await this.getStaff(tenantId, id))?.qualificationCode) await this.releaseQualification(tenantId, code, id);
      throw error;
    }
  }

  async updateStaff(tenantId: string, id: string, input: UpdateStaffInput, now = new Date()): Promise<Staff> {
    await this.mustHaveUnit(tenantId, input.unitId);
    const { qualificationCode: code, ...patch } = input;
    if (code === undefined) return this.staff.patch(tenantId, id, patch, now);
    const before = await this.getStaff(tenantId, id);
    if (!before) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No staff member ${id} in this tenant.`);
    if (code) await this.claimQualification(tenantId, code, id);
    // Set or removed (null), the new code is in the record; the old one no longer names them.
    const updated = await this.staff.patch(tenantId, id, { ...patch, qualificationCode: code ?? undefined } as Partial<Staff>, now);
    if (before.qualificationCode && before.qualificationCode !== code) await this.releaseQualification(tenantId, before.qualificationCode, id);
    return updated;
  }

  /** The staff member whose IC card carries this qualification certificate number. */
  async staffByQualification(tenantId: string, code: string): Promise<Staff | undefined> {
    const id = await this.redis.hget(tenantKeys(tenantId).staffByQualification, code);
    return id ? this.getStaff(tenantId, id) : undefined;
  }

  /** Makes a qualification code this member's, unless it is already another's (one card, one driver). */
  private async claimQualification(tenantId: string, code: string, staffId: string): Promise<void> {
    const key = tenantKeys(tenantId).staffByQualification;
    if (await this.redis.hsetnx(key, code, staffId)) return;
    const holder = await this.redis.hget(key, code);
    if (holder !== staffId)
      throw new CivicLoopError('CL_ERR_QUALIFICATION_TAKEN', `Qualification certificate ${code} is staff member ${holder}'s; check the number.`);
  }

  private async releaseQualification(tenantId: string, code: string, staffId: string): Promise<void> {
    await this.redis.civicloopHashDeleteIf(1, tenantKeys(tenantId).staffByQualification, code, staffId);
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

  /**
   * Where a dispatch target's records are kept (its unit, and its assignee when one is named), for
   * TicketStore.getWith to read beside the ticket; checkAssignment then judges what was read.
   */
  assignmentRecords(tenantId: string, unitId: string, assigneeId: string | undefined): { key: string; field: string }[] {
    const keys = tenantKeys(tenantId);
    const unit = { key: keys.units, field: unitId };
    return assigneeId ? [unit, { key: keys.staff, field: assigneeId }] : [unit];
  }

  /**
   * Checks a dispatch target from its records as assignmentRecords named them: the unit exists and
   * is active, the assignee is an active member of it.
   */
  checkAssignment(unitId: string, assigneeId: string | undefined, [unitJson, staffJson]: (string | null)[]): void {
    const unit = unitJson ? (JSON.parse(unitJson) as Unit) : undefined;
    if (!unit?.active) throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${unitId} does not exist or is inactive; pick one from GET /v1/units.`);
    if (!assigneeId) return;
    const staff = staffJson ? (JSON.parse(staffJson) as Staff) : undefined;
    if (!staff?.active)
      throw new CivicLoopError('CL_ERR_UNKNOWN_STAFF', `Staff member ${assigneeId} does not exist or is inactive; pick one from GET /v1/staff.`);
    if (staff.unitId !== unitId) {
      throw new CivicLoopError(
        'CL_ERR_STAFF_NOT_IN_UNIT',
        `${assigneeId} belongs to unit ${staff.unitId ?? '(none)'}, not ${unitId}; pick a member of ${unitId}.`,
      );
    }
  }
}
