import { randomBytes } from 'node:crypto';
import type { Webhook, WebhookPayload } from '@civicloop/model';
import type { GatewayConfig } from '../core/config.js';
import { PollingLoop } from '../core/polling-loop.js';
import { streamEntryToAlert, streamEntryToEvent } from '../store/ticket-store.js';
import { signPayload, SIGNATURE_HEADER } from './signature.js';
import { partnerPrincipal, partnerSubject } from '../auth/partner-scope.js';
import { redactEvent } from '../tickets/visibility.js';
import { alertIn, eventIn } from '../geometry/crs-output.js';
import { postWebhook } from './post-webhook.js';
import type { WebhookStore } from '../store/webhook-store.js';
import type { WebhookDeliveries } from '../store/webhook-deliveries.js';

type Log = { warn(obj: object, msg: string): void };

const BATCH = 100;
const KEEP_FINISHED_SECONDS = 7 * 86_400;
const MAX_BACKOFF_MS = 3_600_000;

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
    private readonly deliveries: WebhookDeliveries,
    private readonly store: WebhookStore,
    private readonly config: Pick<
      GatewayConfig,
      'webhookPollMs' | 'webhookTimeoutMs' | 'webhookRetryBaseMs' | 'webhookMaxAttempts' | 'webhookAllowPrivateTargets'
    >,
    log: Log,
    private readonly now: () => Date = () => new Date(),
  ) {
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
    for (const tenantId of await this.deliveries.tenants()) {
      if (this.stopped) return;
      await this.fanOut(tenantId);
      await this.deliverDue(tenantId);
    }
  }

  private get leaseMs(): number {
    return this.config.webhookTimeoutMs * 2;
  }

  private async fanOut(tenantId: string): Promise<void> {
    const entries = await this.deliveries.readEntries(tenantId, this.consumer, this.leaseMs, BATCH);
    if (entries.length === 0) return;
    const webhooks = await this.store.list(tenantId);
    const now = this.now();
    // Every delivery of the batch is stored (in one round trip), then the batch is acknowledged.
    const enqueued: Promise<void>[] = [];
    for (const [streamId, fields] of entries) {
      for (const [webhook, payload] of this.payloadsOf(tenantId, streamId, fields, webhooks))
        enqueued.push(this.deliveries.enqueue(tenantId, webhook.id, payload, now));
    }
    await Promise.all(enqueued);
    await this.deliveries.acknowledge(
      tenantId,
      entries.map(([streamId]) => streamId),
    );
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
        // Points in the system the endpoint asked for (its crs), said once for the whole payload.
        const { crs } = webhook;
        const data: WebhookPayload['data'] = alert
          ? { streamId, alert: alertIn(alert, crs) }
          : { streamId, ticketNumber: entry!.event.ticketNumber, event: eventIn(event!, crs) };
        const converted = crs && crs !== 'wgs84' ? { crs } : {};
        return [webhook, { id, type, createdAt: alert ? alert.at : entry!.event.event.at, ...converted, data }];
      });
  }

  private async deliverDue(tenantId: string): Promise<void> {
    const nowMs = this.now().getTime();
    const ids = await this.deliveries.claimDue(tenantId, nowMs, nowMs + this.leaseMs, BATCH);
    await Promise.all(ids.map((id) => this.deliver(tenantId, id)));
  }

  private async deliver(tenantId: string, id: string): Promise<void> {
    const delivery = await this.deliveries.pending(tenantId, id);
    if (!delivery) return;
    const { attempts, payload } = delivery;
    const webhook = await this.store.get(tenantId, delivery.webhookId);
    const secret = webhook && (await this.store.secret(tenantId, webhook.id));
    if (!webhook || !secret) return this.deliveries.finish(tenantId, id, attempts, 'failed', KEEP_FINISHED_SECONDS);
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
          [SIGNATURE_HEADER]: signPayload(secret, payload, Math.floor(started.getTime() / 1000)),
        },
        body: payload,
        timeoutMs: this.config.webhookTimeoutMs,
        allowPrivate: this.config.webhookAllowPrivateTargets,
      });
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
    }
    attempts.push({ at: started.toISOString(), status, ...(error ? { error: error.slice(0, 300) } : {}), durationMs: Date.now() - started.getTime() });
    if (status !== null && status >= 200 && status < 300) return this.deliveries.finish(tenantId, id, attempts, 'delivered', KEEP_FINISHED_SECONDS);
    if (attempts.length >= this.config.webhookMaxAttempts) return this.deliveries.finish(tenantId, id, attempts, 'failed', KEEP_FINISHED_SECONDS);
    const wait = Math.min(MAX_BACKOFF_MS, this.config.webhookRetryBaseMs * 2 ** (attempts.length - 1)) * (0.5 + Math.random() / 2);
    const next = this.now().getTime() + Math.round(wait);
    await this.deliveries.retryAt(tenantId, id, attempts, next);
  }
}
