import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import {
  CivicLoopError,
  DEFAULT_TENANT_POLICY,
  type CreateTenantInput,
  type Tenant,
  type TenantPolicy,
  type TenantKeys as IssuedKeys,
  deriveTokenKey,
  findCategory,
  type CategoryLookup,
  tokenKeyId,
  type CrsName,
} from '@civicloop/model';
import { generateApiKey, hashApiKey, type KeyKind, type Sealer } from '../auth/secrets.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import type { CategoryStore } from './category-store.js';
import { recordIndexesBuilt } from './index-builds.js';
import { TtlCache } from './ttl-cache.js';

type Client = Redis | Cluster;

/** What the policy schema cannot say: a zone Intl knows, and working hours that have any hours. */
function checkPolicy(policy: TenantPolicy, find: CategoryLookup = findCategory): void {
  const invalid = (message: string) => new CivicLoopError('CL_ERR_VALIDATION', message);
  try {
    new Intl.DateTimeFormat('en', { timeZone: policy.timeZone });
  } catch {
    throw invalid(`timeZone "${policy.timeZone}" is not an IANA time zone; use one like Asia/Shanghai.`);
  }
  const unknown = Object.keys(policy.categoryVisibility ?? {}).filter((code) => !find(code));
  if (unknown.length > 0)
    throw invalid(`categoryVisibility names categories that do not exist: ${unknown.slice(0, 5).join(', ')}; list them with GET /v1/categories.`);
  const hours = policy.workingHours;
  if (!hours) return;
  if (hours.end <= hours.start) throw invalid(`workingHours.end (${hours.end}) must be after workingHours.start (${hours.start}).`);
  if (hours.days.length === 0 && !hours.workdays?.length) throw invalid('workingHours.days is empty: name the working weekdays (1 = Monday ... 7 = Sunday).');
}

export interface ApiKeyRecord {
  id: string;
  kind: KeyKind;
  hash: string;
  /** Sealed token-signing key (secret keys only). */
  tokenKey?: string;
  defaultCrs?: CrsName;
  /** A partner's key (its own secret or publishable key): rotated and revoked apart from the tenant's. */
  partnerId?: string;
  createdAt: string;
  revokedAt?: string;
}

export interface KeyLookup {
  tenantId: string;
  keyId: string;
  kind: KeyKind;
  /** The coordinate system points sent with this key are in, when they do not say. */
  crs?: CrsName;
  partnerId?: string;
}

export interface TenantContext {
  tenant: Tenant;
  /** Token-signing keys by their kid (tokenKeyId), opened from their sealed form. */
  tokenKeys: Map<string, Buffer>;
  /** The partner whose secret a token key comes from, by kid; tenant keys are not in it. */
  partnerOfKid: Map<string, string>;
}

/** A key that signs tokens for the tenant itself (no partner) or for one partner. */
export function signingKeyFor(context: TenantContext, partnerId: string | undefined): Buffer | undefined {
  for (const [kid, key] of context.tokenKeys) if (context.partnerOfKid.get(kid) === partnerId) return key;
  return undefined;
}

/** Tenants and their keys. Lookups that every request makes are cached for authCacheTtlMs. */
export class TenantStore {
  private readonly keyCache: TtlCache<{ hash: string; lookup: KeyLookup | undefined }>;
  private readonly tenantCache: TtlCache<TenantContext | null>;

  constructor(
    private readonly redis: Client,
    private readonly sealer: Sealer,
    cacheTtlMs: number,
    private readonly categories: CategoryStore,
  ) {
    this.keyCache = new TtlCache(cacheTtlMs);
    this.tenantCache = new TtlCache(cacheTtlMs);
  }

  async create(input: CreateTenantInput, now = new Date()): Promise<IssuedKeys> {
    checkPolicy({ ...DEFAULT_TENANT_POLICY, ...input.policy });
    const id = `t_${randomBytes(5).toString('hex')}`;
    const claimed = await this.redis.hsetnx(globalKeys.tenantCodes, input.code, id);
    if (!claimed) throw new CivicLoopError('CL_ERR_TENANT_CODE_TAKEN', `Tenant code ${input.code} is taken; pick another code.`);
    const tenant: Tenant = {
      id,
      code: input.code,
      name: input.name,
      policy: { ...DEFAULT_TENANT_POLICY, ...input.policy },
      createdAt: now.toISOString(),
    };
    try {
      await this.redis.set(tenantKeys(id).tenant, JSON.stringify(tenant));
      // No tickets yet: every one it will have is indexed by the write that stores it.
      await recordIndexesBuilt(this.redis, id, now);
      await this.redis.sadd(globalKeys.tenants, id);
      const secretKey = await this.issueKey(id, 'secret', now);
      const publishableKey = await this.issueKey(id, 'publishable', now);
      return { tenant, secretKey, publishableKey };
    } catch (error) {
      // Undo the code claim so the same request can simply be retried.
      await this.redis.hdel(globalKeys.tenantCodes, input.code).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Issues a new key of the kind and revokes the previous keys of that kind: the tenant's own
   * (no partnerId), or one partner's, never another's.
   */
  async rotate(tenantId: string, kind: KeyKind, now = new Date(), defaultCrs?: CrsName, partnerId?: string): Promise<string> {
    const existing = await this.listKeys(tenantId);
    const fresh = await this.issueKey(tenantId, kind, now, defaultCrs, partnerId);
    await this.revoke(
      tenantId,
      existing.filter((r) => r.kind === kind && r.partnerId === partnerId),
      now,
    );
    return fresh;
  }

  /** A partner's first secret and publishable keys. */
  async issuePartnerKeys(tenantId: string, partnerId: string, now: Date, defaultCrs?: CrsName): Promise<{ secretKey: string; publishableKey: string }> {
    const secretKey = await this.issueKey(tenantId, 'secret', now, defaultCrs, partnerId);
    const publishableKey = await this.issueKey(tenantId, 'publishable', now, defaultCrs, partnerId);
    this.tenantCache.delete(tenantId);
    return { secretKey, publishableKey };
  }

  /** Revokes every key of a partner: its servers, pages and residents' tokens stop working. */
  async revokePartnerKeys(tenantId: string, partnerId: string, now: Date): Promise<void> {
    await this.revoke(
      tenantId,
      (await this.listKeys(tenantId)).filter((r) => r.partnerId === partnerId),
      now,
    );
  }

  private async revoke(tenantId: string, records: ApiKeyRecord[], now: Date): Promise<void> {
    const keys = tenantKeys(tenantId);
    for (const record of records.filter((r) => !r.revokedAt)) {
      record.revokedAt = now.toISOString();
      await this.redis.hset(keys.apiKeys, record.id, JSON.stringify(record));
      await this.redis.del(globalKeys.apiKey(record.hash));
      this.keyCache.deleteWhere((entry) => entry.hash === record.hash);
    }
    this.tenantCache.delete(tenantId);
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const all = await this.redis.hvals(tenantKeys(tenantId).apiKeys);
    return all.map((raw) => JSON.parse(raw) as ApiKeyRecord);
  }

  private async issueKey(tenantId: string, kind: KeyKind, now: Date, defaultCrs?: CrsName, partnerId?: string): Promise<string> {
    const key = generateApiKey(kind, tenantId);
    const record: ApiKeyRecord = {
      id: `k_${randomBytes(6).toString('hex')}`,
      kind,
      hash: hashApiKey(key),
      createdAt: now.toISOString(),
      ...(defaultCrs && defaultCrs !== 'wgs84' ? { defaultCrs } : {}),
      ...(partnerId ? { partnerId } : {}),
    };
    if (kind === 'secret') record.tokenKey = this.sealer.seal(Buffer.from(await deriveTokenKey(key)));
    await this.redis.hset(tenantKeys(tenantId).apiKeys, record.id, JSON.stringify(record));
    const lookup: KeyLookup = {
      tenantId,
      keyId: record.id,
      kind,
      ...(record.defaultCrs ? { crs: record.defaultCrs } : {}),
      ...(partnerId ? { partnerId } : {}),
    };
    await this.redis.set(globalKeys.apiKey(record.hash), JSON.stringify(lookup));
    return key;
  }

  async lookupKey(key: string): Promise<KeyLookup | undefined> {
    // Cached by the key as sent, so a hit costs no hashing; the key is in this process's memory
    // for the request anyway.
    const cached = this.keyCache.get(key);
    if (cached !== undefined) return cached?.lookup;
    const hash = hashApiKey(key);
    const raw = await this.redis.get(globalKeys.apiKey(hash));
    const lookup = raw ? (JSON.parse(raw) as KeyLookup) : undefined;
    this.keyCache.set(key, { hash, lookup });
    return lookup;
  }

  /**
   * The same two lookups answered from this process's cache alone, never from Redis: a key or a
   * tenant it has not looked up within AUTH_CACHE_TTL_MS answers "unknown". For an address past
   * its failed-authentication limit (http/auth-hook.ts): what this gateway verified recently
   * still gets in, and a guess costs no lookup.
   */
  cachedOnly(): Pick<TenantStore, 'lookupKey' | 'context'> {
    return {
      lookupKey: async (key) => this.keyCache.get(key)?.lookup,
      context: async (tenantId) => this.tenantCache.get(tenantId) ?? undefined,
    };
  }

  /** Every tenant's id: what the background loops (deadlines, statistics, the offline sweep) go over. */
  ids(): Promise<string[]> {
    return this.redis.smembers(globalKeys.tenants);
  }

  async context(tenantId: string): Promise<TenantContext | undefined> {
    const cached = this.tenantCache.get(tenantId);
    if (cached !== undefined) return cached ?? undefined;
    const keys = tenantKeys(tenantId);
    const [raw, keyRecords] = await Promise.all([this.redis.get(keys.tenant), this.redis.hvals(keys.apiKeys)]);
    let context: TenantContext | null = null;
    if (raw) {
      const tokenKeys = new Map<string, Buffer>();
      const partnerOfKid = new Map<string, string>();
      for (const record of keyRecords.map((r) => JSON.parse(r) as ApiKeyRecord)) {
        if (!record.tokenKey || record.revokedAt) continue;
        const tokenKey = this.sealer.open(record.tokenKey);
        const kid = await tokenKeyId(new Uint8Array(tokenKey));
        tokenKeys.set(kid, tokenKey);
        if (record.partnerId) partnerOfKid.set(kid, record.partnerId);
      }
      const tenant = JSON.parse(raw) as Tenant;
      tenant.policy = { ...DEFAULT_TENANT_POLICY, ...tenant.policy };
      context = { tenant, tokenKeys, partnerOfKid };
    }
    this.tenantCache.set(tenantId, context);
    return context ?? undefined;
  }

  async updatePolicy(tenantId: string, patch: Partial<Tenant['policy']>): Promise<Tenant> {
    const key = tenantKeys(tenantId).tenant;
    const raw = await this.redis.get(key);
    if (!raw) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No tenant ${tenantId}.`);
    const tenant = JSON.parse(raw) as Tenant;
    tenant.policy = { ...DEFAULT_TENANT_POLICY, ...tenant.policy, ...patch };
    // The tenant's own categories are read only when the policy names categories.
    checkPolicy(tenant.policy, Object.keys(tenant.policy.categoryVisibility ?? {}).length > 0 ? await this.categories.lookup(tenantId) : findCategory);
    await this.redis.set(key, JSON.stringify(tenant));
    this.tenantCache.delete(tenantId);
    return tenant;
  }

  async findByCode(code: string): Promise<Tenant | undefined> {
    const id = await this.redis.hget(globalKeys.tenantCodes, code);
    return id ? (await this.context(id))?.tenant : undefined;
  }
}

/** Every tenant's sealed secrets in use (token-signing keys of live keys, webhook secrets, OwnTracks keys): what the master key must open. */
export async function sealedSecretsOfTenants(redis: Redis | Cluster): Promise<{ tenantId: string; sealed: string[] }[]> {
  const out: { tenantId: string; sealed: string[] }[] = [];
  for (const tenantId of await redis.smembers(globalKeys.tenants)) {
    const keys = tenantKeys(tenantId);
    const [records, webhookSecrets, ownTracksKeys] = await Promise.all([
      redis.hvals(keys.apiKeys),
      redis.hvals(keys.webhookSecrets),
      redis.hvals(keys.deviceOwnTracksKeys),
    ]);
    const tokenKeys = records
      .map((raw) => JSON.parse(raw) as { tokenKey?: string; revokedAt?: string })
      .filter((r) => r.tokenKey && !r.revokedAt)
      .map((r) => r.tokenKey!);
    out.push({ tenantId, sealed: [...tokenKeys, ...webhookSecrets, ...ownTracksKeys] });
  }
  return out;
}
