import { randomBytes } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import type { Webhook, WebhookPayload } from '@civicloop/model';
import type { GatewayConfig } from '../core/config.js';
import { PollingLoop } from '../core/polling-loop.js';
import { globalKeys, tenantKeys } from '../redis/keys.js';
import { streamEntryToAlert, streamEntryToEvent } from '../store/ticket-store.js';
import { claimDue } from '../redis/lease-claim.js';
import { signPayload, SIGNATURE_HEADER } from './signature.js';
import { partnerPrincipal, partnerSubject } from '../auth/partner-scope.js';
import { redactEvent } from '../tickets/visibility.js';
import { postWebhook } from './post-webhook.js';
import { WEBHOOK_GROUP, WebhookStore } from '../store/webhook-store.js';
import { registerScripts } from '../redis/scripts/index.js';

type Client = Redis | Cluster;
type Log = { warn(obj: object, msg: string): void };

const BATCH = 100;
const KEEP_FINISHED_SECONDS = 7 * 86_400;
const MAX_BACKOFF_MS = 3_600_000;

type Entry = [id: string, fields: string[]];

/** Whether an endpoint takes a delivery of this type ("ticket.<event>" or "device.<alert>"). */
function subscribed(webhook: Webhook, type: string): boolean {
  return webhook.active && (webhook.events.includes('*') || webhook.events.includes(type as never));
}

/**
 * Webhook deliveries, at least once. New ticket events are read from the tenant's event stream
 * through a consumer group (an entry is acknowledged only once its deliveries exist, and entries
 * a dead gateway had read are claimed back), each becomes one delivery per subscribed endpoint,
 * stored in Redis with its schedule, and due deliveries are leased, POSTed with a signature and
 * retried with growing, jittered waits. Any number of gateways can run this.
 */
export class WebhookDeliveryLoop {
  private readonly consumer = `gw-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly loop: PollingLoop;
  private stopped = false;

  constructor(
    private readonly redis: Client,
    private readonly store: WebhookStore,
    private readonly config: Pick<
      GatewayConfig,
      'webhookPollMs' | 'webhookTimeoutMs' | 'webhookRetryBaseMs' | 'webhookMaxAttempts' | 'webhookAllowPrivateTargets'
    >,
    log: Log,
    private readonly now: () => Date = () => new Date(),
  ) {
    registerScripts(redis);
    this.loop = new PollingLoop('webhook pass', () => this.runOnce(), log);
  }

  start(): void {
    this.loop.start(this.config.webhookPollMs);
  }

  async stop(): Promise<void> {
    // Ends a pass between tenants rather than after all of them.
    this.stopped = true;
    await this.loop.stop();
  }

  /** One pass over every tenant with webhooks: new events into deliveries, then due deliveries out. */
  async runOnce(): Promise<void> {
    for (const tenantId of await this.redis.smembers(globalKeys.webhookTenants)) {
      if (this.stopped) return;
      await this.fanOut(tenantId);
      await this.deliverDue(tenantId);
    }
  }

  private get leaseMs(): number {
    return this.config.webhookTimeoutMs * 2;
  }

  private async fanOut(tenantId: string): Promise<void> {
    const keys = tenantKeys(tenantId);
    // Entries another (dead) gateway read but never acknowledged, then new ones.
    const claimed =
      ((await this.redis.call('XAUTOCLAIM', keys.events, WEBHOOK_GROUP, this.consumer, this.leaseMs, '0-0', 'COUNT', BATCH)) as [string, Entry[]])[1] ?? [];
    const fresh =
      (
        (await this.redis.call('XREADGROUP', 'GROUP', WEBHOOK_GROUP, this.consumer, 'COUNT', BATCH, 'STREAMS', keys.events, '>')) as [string, Entry[]][] | null
      )?.[0]?.[1] ?? [];
    const entries = [...claimed, ...fresh].filter((entry): entry is Entry => Array.isArray(entry?.[1]));
    if (entries.length === 0) return;
    const webhooks = await this.store.list(tenantId);
    const nowMs = this.now().getTime();
    // Every delivery of the batch is stored (one round trip), then the batch is acknowledged.
    const enqueued: Promise<number>[] = [];
    for (const [streamId, fields] of entries) {
      for (const [webhook, payload] of this.payloadsOf(tenantId, streamId, fields, webhooks)) {
        const id = payload.id;
        enqueued.push(
          this.redis.civicloopWebhookEnqueue(
            3,
            keys.webhookDelivery(id),
            keys.webhookDue,
            keys.webhookLog(webhook.id),
            JSON.stringify(payload),
            webhook.id,
            payload.type,
            new Date(nowMs).toISOString(),
            nowMs,
            id,
            WebhookStore.LOG_KEEP,
          ),
        );
      }
    }
    await Promise.all(enqueued);
    await this.redis.xack(keys.events, WEBHOOK_GROUP, ...entries.map(([streamId]) => streamId));
  }

  /** The deliveries one stream entry makes: a ticket event or a device alert, to each endpoint that takes its type. */
  private payloadsOf(tenantId: string, streamId: string, fields: string[], webhooks: Webhook[]): [Webhook, WebhookPayload][] {
    const alert = streamEntryToAlert(fields);
    const entry = alert ? undefined : streamEntryToEvent(streamId, fields);
    const type = alert ? `device.${alert.type}` : entry ? `ticket.${entry.event.event.type}` : undefined;
    if (!type) return [];
    return webhooks
      .filter((w) => subscribed(w, type) && (!w.partnerId || entry?.parties.includes(partnerSubject(w.partnerId))))
      .map((webhook) => {
        const id = `${streamId}.${webhook.id}`;
        // A partner's endpoint hears of its residents' tickets only, and of nobody else's residents in them.
        const event = entry && webhook.partnerId ? redactEvent(partnerPrincipal(tenantId, webhook.partnerId), entry.event.event) : entry?.event.event;
        const data: WebhookPayload['data'] = alert ? { streamId, alert } : { streamId, ticketNumber: entry!.event.ticketNumber, event: event! };
        return [webhook, { id, type, createdAt: alert ? alert.at : entry!.event.event.at, data }];
      });
  }

  private async deliverDue(tenantId: string): Promise<void> {
    const keys = tenantKeys(tenantId);
    const nowMs = this.now().getTime();
    const ids = await claimDue(this.redis, keys.webhookDue, nowMs, nowMs + this.leaseMs, BATCH);
    await Promise.all(ids.map((id) => this.deliver(tenantId, id)));
  }

  private async deliver(tenantId: string, id: string): Promise<void> {
    const keys = tenantKeys(tenantId);
    const record = await this.redis.hgetall(keys.webhookDelivery(id));
    if (!record.payload || record.state !== 'pending') {
      await this.redis.zrem(keys.webhookDue, id);
      return;
    }
    const attempts = JSON.parse(record.attempts ?? '[]') as { at: string; status: number | null; error?: string; durationMs: number }[];
    const webhook = await this.store.get(tenantId, record.webhookId!);
    const secret = webhook && (await this.store.secret(tenantId, webhook.id));
    if (!webhook || !secret) return this.finish(tenantId, id, attempts, 'failed');
    // A paused endpoint keeps its deliveries: they wait, leased forward, until it is active again.
    if (!webhook.active) return;

    const started = this.now();
    let status: number | null = null;
    let error: string | undefined;
    try {
      status = await postWebhook({
        url: webhook.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CivicLoop-Webhooks/1',
          'civicloop-delivery': id,
          [SIGNATURE_HEADER]: signPayload(secret, record.payload, Math.floor(started.getTime() / 1000)),
        },
        body: record.payload,
        timeoutMs: this.config.webhookTimeoutMs,
        allowPrivate: this.config.webhookAllowPrivateTargets,
      });
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    attempts.push({ at: started.toISOString(), status, ...(error ? { error: error.slice(0, 300) } : {}), durationMs: Date.now() - started.getTime() });
    if (status !== null && status >= 200 && status < 300) return this.finish(tenantId, id, attempts, 'delivered');
    if (attempts.length >= this.config.webhookMaxAttempts) return this.finish(tenantId, id, attempts, 'failed');
    const wait = Math.min(MAX_BACKOFF_MS, this.config.webhookRetryBaseMs * 2 ** (attempts.length - 1)) * (0.5 + Math.random() / 2);
    const next = this.now().getTime() + Math.round(wait);
    await this.redis
      .multi()
      .hset(keys.webhookDelivery(id), 'attempts', JSON.stringify(attempts), 'nextAttemptAt', new Date(next).toISOString())
      .zadd(keys.webhookDue, next, id)
      .exec();
  }

  private async finish(tenantId: string, id: string, attempts: unknown[], state: 'delivered' | 'failed'): Promise<void> {
    const keys = tenantKeys(tenantId);
    await this.redis
      .multi()
      .hset(keys.webhookDelivery(id), 'state', state, 'attempts', JSON.stringify(attempts))
      .hdel(keys.webhookDelivery(id), 'nextAttemptAt')
      .expire(keys.webhookDelivery(id), KEEP_FINISHED_SECONDS)
      .zrem(keys.webhookDue, id)
      .exec();
  }
}
