import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';
import { buildApp, type GatewayApp } from './app.js';
import { loadConfig, type GatewayConfig } from './core/config.js';
import { assertMasterKeyOpens, resolveMasterKey } from './core/master-key.js';
import { connectRedis } from './redis/connect.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded-supervisor.js';
import { attachTelemetry } from './attach-telemetry.js';
import type { RunningTelemetry } from './telemetry/start.js';

export interface RunningGateway extends GatewayApp {
  url: string;
  /** MQTT listeners, when MQTT_ENABLED. */
  mqtt?: { tcpPort: number; wsPort: number };
  /** The JT/T 808 listener's port, unless JT808_PORT is off. */
  jt808Port?: number;
  config: GatewayConfig;
  /** Present when the gateway runs its own redis-server (supervised: restarted if it dies). */
  embeddedRedis?: EmbeddedRedis;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: GatewayConfig;
  log?: (line: string) => void;
  logger?: boolean | object;
}

/** Starts the whole gateway: Redis (given or embedded), the HTTP API, and graceful shutdown. */
export async function startGateway(options: StartOptions = {}): Promise<RunningGateway> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let embedded: EmbeddedRedis | undefined;
  let redis: Redis | Cluster;
  if (config.redisUrl) {
    redis = await connectRedis({ url: config.redisUrl, cluster: config.redisCluster, socketTimeoutMs: config.redisSocketTimeoutMs });
  } else {
    embedded = await startEmbeddedRedis(config, log);
    redis = await connectRedis({
      url: embedded.url,
      cluster: false,
      source: 'the embedded redis-server (unset DATA_DIR or REDIS_URL)',
      socketTimeoutMs: config.redisSocketTimeoutMs,
    });
  }
  const master = resolveMasterKey(config.masterKey, config.dataDir);
  try {
    await assertMasterKeyOpens(redis, master);
  } catch (error) {
    redis.disconnect();
    await embedded?.stop();
    throw error;
  }
  const redisUrl = config.redisUrl || embedded!.url;
  const gateway = await buildApp({
    config,
    redis,
    masterKey: master.key,
    redisUrl,
    ...(options.logger !== undefined ? { logger: options.logger as boolean } : {}),
  });

  try {
    await gateway.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await gateway.app.close();
    redis.disconnect();
    await embedded?.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CivicLoopError(
        'CL_ERR_PORT_IN_USE',
        `Port ${config.port} on ${config.host} is taken; set PORT to a free port (for example PORT=${config.port + 1}).`,
      );
    }
    throw error;
  }
  // Telemetry always runs (the OsmAnd HTTP route feeds its pipeline); its listeners follow MQTT_ENABLED and JT808_PORT.
  let telemetry: RunningTelemetry;
  try {
    telemetry = await attachTelemetry(gateway, config);
  } catch (error) {
    await gateway.app.close();
    redis.disconnect();
    await embedded?.stop();
    throw error;
  }
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const grace = setTimeout(() => gateway.app.server.closeAllConnections(), config.shutdownGraceMs);
      await gateway.app.close();
      clearTimeout(grace);
      await redis.quit().catch(() => redis.disconnect());
      await embedded?.stop();
    })());

  return {
    ...gateway,
    url,
    config,
    ...(telemetry.tcpPort !== undefined && telemetry.wsPort !== undefined ? { mqtt: { tcpPort: telemetry.tcpPort, wsPort: telemetry.wsPort } } : {}),
    ...(telemetry.jt808Port !== undefined ? { jt808Port: telemetry.jt808Port } : {}),
    ...(embedded ? { embeddedRedis: embedded } : {}),
    close,
  };
}
