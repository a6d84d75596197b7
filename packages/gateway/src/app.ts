import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Redis, Cluster } from 'ioredis';
import type { LoggerOptions } from 'pino';
import { CivicLoopError } from '@civicloop/model';
import type { GatewayConfig } from './core/config.js';
import { installAuth } from './http/auth-hook.js';
import { installCors } from './http/cors.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './http/error-handler.js';
import { installIdempotentReplay } from './http/idempotent-replay.js';
import { openApiPluginOptions } from './routes/openapi-document.js';
import { validatorCompiler } from './http/validation.js';
import { buildSerializer } from './http/serialization.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { commandRoutes } from './routes/commands.js';
import { directoryRoutes } from './routes/directory.js';
import { EventStreams, eventRoutes } from './routes/events.js';
import { StreamHub } from './redis/stream-hub.js';
import { healthRoutes, tenantRoutes } from './routes/tenants.js';
import { ticketRoutes } from './routes/tickets.js';
import type { Access, Services } from './core/services.js';
import type { ServicesWithTelemetry } from './telemetry/start.js';
import type { TicketService } from './tickets/ticket-service.js';
import { zoneRoutes } from './routes/zones.js';
import { webhookRoutes } from './routes/webhooks.js';
import { partnerRoutes } from './routes/partners.js';
import { intakeRoutes } from './routes/intake.js';
import { open311ClientErrorDocument, open311Routes, sendOpen311FrameworkError } from './routes/open311/index.js';
import { osmAndRoutes } from './routes/osmand.js';
import { ownTracksHttpRoutes } from './routes/owntracks-http.js';
import { thingsBoardHttpRoutes } from './routes/thingsboard-http.js';
import { entryCodeRoutes } from './routes/entry-codes.js';
import { brokerHookRoutes } from './routes/broker-hooks.js';
import { statsRoutes } from './routes/stats.js';
import { StatsProjector } from './stats/stats-projector.js';
import { buildServices } from './services-factory.js';
import { StatsThread } from './stats-thread.js';
import { WebhookDeliveryLoop } from './webhooks/delivery-loop.js';
import { DeadlineScheduler } from './tickets/deadline-scheduler.js';
import { IndexBuildAtStart } from './tickets/index-build-at-start.js';
import type { WebhookStore } from './store/webhook-store.js';
import { WebhookDeliveries } from './store/webhook-deliveries.js';
import { deviceRoutes } from './routes/devices.js';
import { devicePhotoRoutes } from './routes/device-photos.js';
import { provisioningProfileRoutes } from './routes/provisioning-profiles.js';
import { thingsBoardProvisionRoutes } from './routes/thingsboard-provision.js';
import { fleetRoutes } from './routes/fleet/index.js';
import { nearestWorkerRoutes } from './routes/nearest-workers.js';
import { followingRoutes } from './routes/following.js';
import { geocodeRoutes } from './routes/geocode.js';
import { mediaRoutes } from './routes/media.js';
import { residentRoutes } from './routes/residents.js';
import { widgetAssetRoutes } from './routes/widget-assets.js';
import { gatewayLoggerOptions } from './core/log-serializers.js';
import type { MediaStore } from './media/media-store.js';

export interface AppOptions {
  config: GatewayConfig;
  /** A connected ioredis client (or Cluster); the app does not close it. */
  redis: Redis | Cluster;
  /** The key that seals token-signing keys at rest. */
  masterKey: string;
  logger?: LoggerOptions | boolean;
  now?: () => Date;
  /** Where photos go. Default: files under MEDIA_DIR (or DATA_DIR/media). */
  mediaStore?: MediaStore;
  /**
   * The Redis URL `redis` connects to, for the statistics thread's own connection (STATS_THREAD);
   * without it, the statistics projector runs on this thread.
   */
  redisUrl?: string;
}

export interface GatewayApp {
  app: FastifyInstance;
  services: ServicesWithTelemetry;
  /** Open SSE responses (closed on shutdown; tests close them to simulate a dropped connection). */
  streams: EventStreams;
  /** The shared stream readers behind every SSE response. */
  hub: StreamHub;
  ticketService: TicketService;
  /** Deadline warnings and escalations (running unless SCHEDULER_ENABLED=false; runOnce for tests). */
  scheduler: DeadlineScheduler;
  /** The KPI counters' projector (runs with the scheduler; GET /v1/stats also catches up first). */
  stats: StatsProjector;
  /** The projector's passes in a thread of their own, when STATS_THREAD and the app was given its Redis URL. */
  statsThread?: StatsThread;
  /** The build of indexes newer than the tenants' tickets, started with the app (tests wait on finished()). */
  indexBuild: IndexBuildAtStart;
  /** Who reaches each route ("METHOD /path"), as the routes declare it: what docs/access.md lists. */
  access: ReadonlyMap<string, Access>;
  /** Where photos go (uploads, and the photos vehicles' cameras send). */
  mediaStore: MediaStore;
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Builds the HTTP API around a Redis connection; listening and shutdown are the caller's. */
export async function buildApp(options: AppOptions): Promise<GatewayApp> {
  const { config, redis } = options;
  const { services, sealer, webhooks, mediaStore, ticketService } = buildServices(options);
  const streams = new EventStreams();

  let servicesForErrors: Services | undefined;
  const app = Fastify({
    logger: gatewayLoggerOptions(config.logLevel, options.logger),
    frameworkErrors: frameworkErrors(() => servicesForErrors, { '/open311/': sendOpen311FrameworkError }),
    clientErrorHandler: clientErrorHandler({ '/open311/': open311ClientErrorDocument }),
    bodyLimit: config.bodyLimitBytes,
    // fastify takes a hop count too, though its types do not say so.
    trustProxy: config.trustProxy as boolean | string,
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // In-flight requests finish during shutdown; idle keep-alive sockets are closed at once.
    forceCloseConnections: 'idle',
    // Requests that still arrive while shutting down get CL_ERR_SHUTTING_DOWN (below), a
    // catalogue error with Retry-After and CORS, rather than fastify's bare 503.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false } },
    // Responses are written by fast-json-stringify as fastify does, with "X or null" unions
    // written by type instead of by validating each branch (http/serialization.ts).
    schemaController: { compilersFactory: { buildSerializer } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  services.log = app.log;
  servicesForErrors = services;
  const hub = new StreamHub(redis, config.sseHeartbeatMs, (error) => app.log.debug({ err: error.message }, 'event stream reader connection'));
  app.setValidatorCompiler(validatorCompiler());
  installErrorHandling(app, services);
  // While shutting down, a response that was in flight closes its connection after it is sent,
  // so a drained keep-alive connection does not hold the shutdown open until the grace timeout.
  let closing = false;
  app.addHook('onRequest', async () => {
    if (closing) throw new CivicLoopError('CL_ERR_SHUTTING_DOWN');
  });
  installCors(app, services);
  installAuth(app, services);
  const access = new Map<string, Access>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') access.set(`${method} ${route.url}`, route.config?.access ?? { kind: 'none' });
  });
  const idempotency = installIdempotentReplay(app, services, sealer);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    streams.closeAll();
    hub.closeAll();
  });
  const loops = backgroundLoops(options, services, webhooks, app.log);
  const { scheduler, stats, statsThread, indexBuild } = loops;
  app.addHook('onClose', async () => {
    await loops.stop();
    await services.telemetry?.close();
    delete services.telemetry;
  });

  await app.register(swagger, openApiPluginOptions(config.publicUrl, idempotency));

  await registerRoutes(app, { services, ticketService, streams, hub, webhooks, mediaStore, stats });

  await app.ready();
  loops.start();
  return { app, services, streams, hub, ticketService, scheduler, stats, indexBuild, access, mediaStore, ...(statsThread ? { statsThread } : {}) };
}

/**
 * The gateway's background loops (docs/architecture.md, "Background work in every gateway"):
 * webhook delivery, the deadline scheduler and the statistics projector, the last in a thread of
 * its own (STATS_THREAD) when the app knows its Redis URL. The main thread's projector also counts
 * on demand, when a statistics read catches up first.
 */
function backgroundLoops(options: AppOptions, services: Services, webhooks: WebhookStore, log: FastifyBaseLogger) {
  const { config, redis } = options;
  const deliveries = config.webhooksEnabled ? new WebhookDeliveryLoop(new WebhookDeliveries(redis), webhooks, config, log, services.now) : undefined;
  const scheduler = new DeadlineScheduler(services, log);
  const indexBuild = new IndexBuildAtStart(services, config.rebuildIndexes, log);
  const stats = new StatsProjector(services, log);
  const statsThread =
    config.schedulerEnabled && config.statsThread && options.redisUrl
      ? new StatsThread({ config, redisUrl: options.redisUrl, masterKey: options.masterKey }, log, () => stats.start(config.schedulerPollMs))
      : undefined;
  return {
    scheduler,
    stats,
    statsThread,
    indexBuild,
    start(): void {
      indexBuild.start();
      deliveries?.start();
      if (!config.schedulerEnabled) return;
      scheduler.start();
      if (statsThread) statsThread.start();
      else stats.start(config.schedulerPollMs);
    },
    async stop(): Promise<void> {
      await indexBuild.stop();
      await deliveries?.stop();
      await scheduler.stop();
      await stats.stop();
      await statsThread?.stop();
    },
  };
}

/** Every route, one plugin each (docs/access.md lists who reaches what). */
async function registerRoutes(
  app: FastifyInstance,
  parts: {
    services: ServicesWithTelemetry;
    ticketService: TicketService;
    streams: EventStreams;
    hub: StreamHub;
    webhooks: WebhookStore;
    mediaStore: MediaStore;
    stats: StatsProjector;
  },
): Promise<void> {
  const { services, ticketService, streams, hub, webhooks, mediaStore, stats } = parts;
  await app.register(healthRoutes, { services });
  await app.register(catalogueRoutes, { services });
  await app.register(entryCodeRoutes, { services });
  await app.register(ticketRoutes, { services, ticketService });
  await app.register(commandRoutes, { services, ticketService });
  await app.register(eventRoutes, { services, streams, hub });
  await app.register(directoryRoutes, { services });
  await app.register(zoneRoutes, { services });
  await app.register(webhookRoutes, { services, store: webhooks });
  await app.register(partnerRoutes, { services, partners: services.partners });
  await app.register(intakeRoutes, { services, ticketService });
  await app.register(open311Routes, { services, ticketService, prefix: '/open311/v2' });
  await app.register(statsRoutes, { services, projector: stats, ticketService });
  await app.register(tenantRoutes, { services });
  await app.register(deviceRoutes, { services });
  await app.register(devicePhotoRoutes, { services });
  await app.register(osmAndRoutes, { services });
  await app.register(ownTracksHttpRoutes, { services });
  await app.register(thingsBoardHttpRoutes, { services });
  await app.register(provisioningProfileRoutes, { services });
  await app.register(thingsBoardProvisionRoutes, { services });
  await app.register(brokerHookRoutes, { services });
  await app.register(fleetRoutes, { services, streams, hub });
  await app.register(nearestWorkerRoutes, { services, ticketService });
  await app.register(followingRoutes, { services, ticketService });
  await app.register(geocodeRoutes, { services });
  await app.register(residentRoutes, { services });
  await app.register(mediaRoutes, { services, store: mediaStore });
  await app.register(widgetAssetRoutes);
  app.get('/v1/openapi.json', { config: { access: { kind: 'none' } }, schema: { hide: true } }, async () => app.swagger());
}
