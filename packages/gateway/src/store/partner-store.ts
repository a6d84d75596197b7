import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type CreatePartnerInput, type Partner, type PartnerKeys, type UpdatePartnerInput } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import { RecordHash } from './record-hash.js';
import type { TenantStore } from './tenant-store.js';
import type { ZoneStore } from './zone-store.js';
import type { WebhookStore } from './webhook-store.js';

type Client = Redis | Cluster;

/**
 * Partners (property-management platforms) inside a tenant: their records here, their keys with
 * the tenant's keys (TenantStore), marked with the partner they belong to.
 */
export class PartnerStore {
  private readonly records: RecordHash<Partner>;

  constructor(
    private readonly redis: Client,
    private readonly tenants: TenantStore,
    private readonly zones: ZoneStore,
    private readonly webhooks: WebhookStore,
  ) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).partners, 'Partner');
  }

  async create(tenantId: string, input: CreatePartnerInput, now: Date): Promise<PartnerKeys> {
    await this.checkZones(tenantId, input.zones ?? []);
    const at = now.toISOString();
    const partner: Partner = {
      id: `p_${randomBytes(5).toString('hex')}`,
      name: input.name,
      zones: input.zones ?? [],
      ...(input.defaultCrs ? { defaultCrs: input.defaultCrs } : {}),
      createdAt: at,
      updatedAt: at,
    };
    await this.records.insert(tenantId, partner);
    try {
      return { partner, ...(await this.tenants.issuePartnerKeys(tenantId, partner.id, now, input.defaultCrs)) };
    } catch (error) {
      // No partner without keys: the same request can simply be sent again.
      await this.tenants.revokePartnerKeys(tenantId, partner.id, now).catch(() => undefined);
      await this.redis.hdel(tenantKeys(tenantId).partners, partner.id).catch(() => undefined);
      throw error;
    }
  }

  async update(tenantId: string, id: string, patch: UpdatePartnerInput, now: Date): Promise<Partner> {
    await this.active(tenantId, id);
    if (patch.zones) await this.checkZones(tenantId, patch.zones);
    return this.records.patch(tenantId, id, patch, now);
  }

  /** Ends a partner: its keys are revoked (its residents' tokens stop verifying) and its endpoints removed; its tickets stay. */
  async disable(tenantId: string, id: string, now: Date): Promise<Partner> {
    await this.active(tenantId, id);
    await this.tenants.revokePartnerKeys(tenantId, id, now);
    for (const webhook of await this.webhooks.list(tenantId)) if (webhook.partnerId === id) await this.webhooks.remove(tenantId, webhook.id);
    return this.records.patch(tenantId, id, { disabledAt: now.toISOString() }, now);
  }

  async rotate(tenantId: string, id: string, kind: 'secret' | 'publishable', now: Date): Promise<string> {
    const partner = await this.active(tenantId, id);
    return this.tenants.rotate(tenantId, kind, now, partner.defaultCrs, id);
  }

  get(tenantId: string, id: string): Promise<Partner | undefined> {
    return this.records.get(tenantId, id);
  }

  list(tenantId: string): Promise<Partner[]> {
    return this.records.list(tenantId);
  }

  /** A partner that exists and is not disabled. */
  async active(tenantId: string, id: string): Promise<Partner> {
    const partner = await this.records.get(tenantId, id);
    if (!partner || partner.disabledAt)
      throw new CivicLoopError('CL_ERR_NOT_FOUND', `No active partner ${id} in this tenant; list them with GET /v1/partners.`);
    return partner;
  }

  private async checkZones(tenantId: string, ids: string[]): Promise<void> {
    const known = new Set((await this.zones.list(tenantId)).map((zone) => zone.id));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new CivicLoopError(
        'CL_ERR_VALIDATION',
        `zones names zones that do not exist in this tenant: ${unknown.slice(0, 5).join(', ')}; create them with POST /v1/zones first.`,
        { issues: [{ path: '/zones', message: 'unknown zone' }] },
      );
    }
  }
}
