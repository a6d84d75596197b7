import type { Redis, Cluster } from 'ioredis';
import type { GatewayConfig } from './core/config.js';
import { Sealer } from './auth/secrets.js';
import { AddressLimits } from './store/address-limits.js';
import { MediaUrls } from './media/media-urls.js';
import { registerScripts } from './redis/scripts/index.js';
import type { ServicesWithTelemetry } from './telemetry/start.js';
import { CategoryStore } from './store/category-store.js';
import { DirectoryStore } from './store/directory-store.js';
import { TenantStore } from './store/tenant-store.js';
import { TicketStore } from './store/ticket-store.js';
import { TicketService } from './tickets/ticket-service.js';
import { Router } from './tickets/router.js';
import { ZoneStore } from './store/zone-store.js';
import { PartnerStore } from './store/partner-store.js';
import { WebhookStore } from './store/webhook-store.js';
import { DeviceStore } from './store/device-store.js';
import { ProvisioningStore } from './store/provisioning-store.js';
import { mediaStoreFor } from './media/configured-store.js';
import { PhotoRefs } from './tickets/photo-refs.js';
import type { MediaStore } from './media/media-store.js';
import { RateLimiter } from './core/rate-limit.js';

/** What the services are built from: the app's options (app.ts), or a worker thread's (stats-worker.ts). */
export interface ServicesOptions {
  config: GatewayConfig;
  redis: Redis | Cluster;
  /** The key that seals token-signing keys at rest. */
  masterKey: string;
  now?: () => Date;
  /** Where photos go. Default: files under MEDIA_DIR (or DATA_DIR/media). */
  mediaStore?: MediaStore;
}

/** The stores and services every part shares, built once per app in the order they depend on each other. */
export function buildServices(options: ServicesOptions) {
  const { config, redis } = options;
  registerScripts(redis);
  const categories = new CategoryStore(redis, config.authCacheTtlMs);
  const directory = new DirectoryStore(redis, categories);
  const sealer = new Sealer(options.masterKey);
  const webhooks = new WebhookStore(redis, sealer, config.webhookAllowPrivateTargets);
  const tenants = new TenantStore(redis, sealer, config.authCacheTtlMs, categories);
  const zones = new ZoneStore(redis, directory, categories, config.authCacheTtlMs);
  const now = options.now ?? (() => new Date());
  const devices = new DeviceStore(redis, sealer, { brokerAccounts: config.mqttBrokerDynsec });
  const services: ServicesWithTelemetry = {
    config,
    redis,
    tickets: new TicketStore(redis, {
      streamMaxLen: config.streamMaxLen,
      idempotencyTtlSeconds: config.idempotencyTtlSeconds,
      replicaWait: { replicas: config.redisWaitReplicas, timeoutMs: config.redisWaitTimeoutMs },
      cacheEntries: config.ticketCacheEntries,
    }),
    tenants,
    categories,
    directory,
    zones,
    partners: new PartnerStore(redis, tenants, zones, webhooks),
    devices,
    provisioning: new ProvisioningStore(redis, devices, sealer),
    mediaUrls: new MediaUrls(options.masterKey),
    addressLimits: new AddressLimits(
      redis,
      { authFailuresPerMinute: config.rateLimitAuthFailuresPerAddress, keylessPerMinute: config.rateLimitKeylessPerAddress },
      () => now().getTime(),
    ),
    requestLimits: new RateLimiter(config.rateLimitPerKey, config.rateLimitPerAddress, () => now().getTime()),
    now,
  };
  const mediaStore = options.mediaStore ?? mediaStoreFor(config);
  const ticketService = new TicketService(services, new PhotoRefs(mediaStore));
  ticketService.useRouter(new Router(services, services.zones));
  return { services, sealer, webhooks, mediaStore, ticketService };
}
