import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError, type CreatedWebhook, type CreateWebhookInput, type UpdateWebhookInput, type Webhook, type WebhookDelivery } from '@civicloop/model';
import type { Sealer } from '../auth/secrets.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import { RecordHash } from './record-hash.js';
import { checkTargetUrl } from './webhook-targets.js';
import { readPipeline } from '../redis/read-pipeline.js';

type Client = Redis | Cluster;

/** The consumer group every gateway's webhook loop reads a tenant's event stream through. */
export const WEBHOOK_GROUP = 'webhooks';
const LOG_KEEP = 200;

/** Endpoints and their sealed secrets; the delivery log read back for the API. */
export class WebhookStore {
  private readonly records: RecordHash<Webhook>;

  constructor(
    private readonly redis: Client,
    private readonly sealer: Sealer,
    private readonly allowPrivateTargets: boolean,
  ) {
    this.records = new RecordHash(redis, (t) => tenantKeys(t).webhooks, 'Webhook');
  }

  /** `partnerId`: registered by a partner, so it is sent only what concerns that partner's residents. */
  async create(tenantId: string, input: CreateWebhookInput, now: Date, partnerId?: string): Promise<CreatedWebhook> {
    checkTargetUrl(input.url, this.allowPrivateTargets);
    const keys = tenantKeys(tenantId);
    // Deliveries start with the events after registration: the group starts at the stream's end.
    try {
      await this.redis.xgroup('CREATE', keys.events, WEBHOOK_GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    const at = now.toISOString();
    const webhook: Webhook = {
      id: `wh_${randomBytes(6).toString('hex')}`,
      url: input.url,
      events: input.events ?? ['*'],
      active: true,
      ...(partnerId ? { partnerId } : {}),
      createdAt: at,
      updatedAt: at,
      ...(input.description ? { description: input.description } : {}),
      ...(input.crs ? { crs: input.crs } : {}),
    };
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    await this.redis.hset(keys.webhookSecrets, webhook.id, this.sealer.seal(Buffer.from(secret)));
    await this.records.insert(tenantId, webhook);
    await this.redis.sadd(globalKeys.webhookTenants, tenantId);
    return { ...webhook, secret };
  }

  async update(tenantId: string, id: string, patch: UpdateWebhookInput, now: Date): Promise<Webhook> {
    if (patch.url) checkTargetUrl(patch.url, this.allowPrivateTargets);
    return this.records.patch(tenantId, id, patch, now);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const keys = tenantKeys(tenantId);
    const removed = await this.redis.hdel(keys.webhooks, id);
    if (!removed) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No webhook ${id} in this tenant.`);
    await this.redis.hdel(keys.webhookSecrets, id);
  }

  get(tenantId: string, id: string): Promise<Webhook | undefined> {
    return this.records.get(tenantId, id);
  }

  list(tenantId: string): Promise<Webhook[]> {
    return this.records.list(tenantId);
  }

  async secret(tenantId: string, id: string): Promise<string | undefined> {
    const sealed = await this.redis.hget(tenantKeys(tenantId).webhookSecrets, id);
    return sealed ? this.sealer.open(sealed).toString() : undefined;
  }

  async deliveries(tenantId: string, webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const keys = tenantKeys(tenantId);
    const ids = await this.redis.lrange(keys.webhookLog(webhookId), 0, limit - 1);
    const pipeline = readPipeline(this.redis);
    for (const id of ids) pipeline.hgetall(keys.webhookDelivery(id));
    const rows = (await pipeline.exec()) ?? [];
    return rows.flatMap(([error, row], i) => {
      const r = row as Record<string, string>;
      if (error || !r?.state) return [];
      return [
        {
          id: ids[i]!,
          webhookId,
          type: r.type!,
          state: r.state as WebhookDelivery['state'],
          createdAt: r.createdAt!,
          attempts: JSON.parse(r.attempts ?? '[]'),
          ...(r.state === 'pending' && r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
        },
      ];
    });
  }

  static readonly LOG_KEEP = LOG_KEEP;
}
