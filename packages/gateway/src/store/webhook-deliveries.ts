import type { Cluster, Redis } from 'ioredis';
import type { Static } from '@sinclair/typebox';
import type { WebhookAttempt, WebhookPayload } from '@civicloop/model';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import { claimDue } from '../redis/lease-claim.js';
import { registerScripts } from '../redis/scripts/index.js';
import { WEBHOOK_GROUP, WebhookStore } from './webhook-store.js';

type Entry = [id: string, fields: string[]];

/** One try of a delivery, as kept on it and shown by GET /v1/webhooks/{id}/deliveries. */
export type DeliveryAttempt = Static<typeof WebhookAttempt>;

/** A delivery waiting for its next attempt. */
export interface PendingDelivery {
  webhookId: string;
  /** The body as signed and sent, the same every attempt. */
  payload: string;
  attempts: DeliveryAttempt[];
}

/**
 * Webhook deliveries as stored, for the delivery loop (webhooks/delivery-loop.ts): the tenant's
 * event stream read through the webhooks' consumer group, each delivery with its schedule in the
 * tenant's due set, leased when taken, and kept for a while once delivered or given up.
 */
export class WebhookDeliveries {
  constructor(private readonly redis: Redis | Cluster) {
    registerScripts(redis);
  }

  /** The tenants with webhook endpoints: the only ones whose streams the loop reads. */
  tenants(): Promise<string[]> {
    return this.redis.smembers(globalKeys.webhookTenants);
  }

  /**
   * Stream entries for `consumer`: first those another consumer (a dead gateway) read and did not
   * acknowledge within `leaseMs`, then new ones; at most `count` of each.
   */
  async readEntries(tenantId: string, consumer: string, leaseMs: number, count: number): Promise<Entry[]> {
    const { events } = tenantKeys(tenantId);
    const claimed = ((await this.redis.call('XAUTOCLAIM', events, WEBHOOK_GROUP, consumer, leaseMs, '0-0', 'COUNT', count)) as [string, Entry[]])[1] ?? [];
    const fresh =
      (
        (await this.redis.call('XREADGROUP', 'GROUP', WEBHOOK_GROUP, consumer, 'COUNT', count, 'STREAMS', events, '>')) as [string, Entry[]][] | null
      )?.[0]?.[1] ?? [];
    return [...claimed, ...fresh].filter((entry): entry is Entry => Array.isArray(entry?.[1]));
  }

  /** Stores a delivery, due now, and notes it in its endpoint's log (civicloopWebhookEnqueue: once per id). */
  async enqueue(tenantId: string, webhookId: string, payload: WebhookPayload, now: Date): Promise<void> {
    const keys = tenantKeys(tenantId);
    await this.redis.civicloopWebhookEnqueue(
      3,
      keys.webhookDelivery(payload.id),
      keys.webhookDue,
      keys.webhookLog(webhookId),
      JSON.stringify(payload),
      webhookId,
      payload.type,
      now.toISOString(),
      now.getTime(),
      payload.id,
      WebhookStore.LOG_KEEP,
    );
  }

  /** Acknowledges stream entries whose deliveries are all stored. */
  async acknowledge(tenantId: string, streamIds: string[]): Promise<void> {
    if (streamIds.length > 0) await this.redis.xack(tenantKeys(tenantId).events, WEBHOOK_GROUP, ...streamIds);
  }

  /** Takes the deliveries due at `now`, leased until `leaseUntil` (ms), at most `count`. */
  claimDue(tenantId: string, now: number, leaseUntil: number, count: number): Promise<string[]> {
    return claimDue(this.redis, tenantKeys(tenantId).webhookDue, now, leaseUntil, count);
  }

  /** The delivery, if it still waits; one that was finished or removed leaves the schedule. */
  async pending(tenantId: string, id: string): Promise<PendingDelivery | undefined> {
    const keys = tenantKeys(tenantId);
    const record = await this.redis.hgetall(keys.webhookDelivery(id));
    if (record.payload && record.state === 'pending') {
      return { webhookId: record.webhookId ?? '', payload: record.payload, attempts: JSON.parse(record.attempts ?? '[]') as DeliveryAttempt[] };
    }
    await this.redis.zrem(keys.webhookDue, id);
    return undefined;
  }

  /** Records a failed attempt and when the next one is due. */
  async retryAt(tenantId: string, id: string, attempts: DeliveryAttempt[], next: number): Promise<void> {
    const keys = tenantKeys(tenantId);
    await this.redis
      .multi()
      .hset(keys.webhookDelivery(id), 'attempts', JSON.stringify(attempts), 'nextAttemptAt', new Date(next).toISOString())
      .zadd(keys.webhookDue, next, id)
      .exec();
  }

  /** Ends a delivery (delivered, or given up), keeping it `keepSeconds` for its endpoint's log. */
  async finish(tenantId: string, id: string, attempts: DeliveryAttempt[], state: 'delivered' | 'failed', keepSeconds: number): Promise<void> {
    const keys = tenantKeys(tenantId);
    await this.redis
      .multi()
      .hset(keys.webhookDelivery(id), 'state', state, 'attempts', JSON.stringify(attempts))
      .hdel(keys.webhookDelivery(id), 'nextAttemptAt')
      .expire(keys.webhookDelivery(id), keepSeconds)
      .zrem(keys.webhookDue, id)
      .exec();
  }
}
