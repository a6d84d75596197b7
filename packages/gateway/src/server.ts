import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Redis, Cluster } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';
import { buildApp, type GatewayApp } from './app.js';
import { loadConfig, type GatewayConfig } from './config.js';
import { resolveMasterKey } from './master-key.js';
import { connectRedis } from './redis/connect.js';
import { pingRedis, startRedisServer, type RunningRedis } from './redis/embedded-redis.js';
import { attachTelemetry } from './telemetry/attach.js';
import type { RunningTelemetry } from './telemetry/broker.js';

export interface RunningGateway extends GatewayApp {
  url: string;
  /** MQTT listeners, when MQTT_ENABLED. */
  mqtt?: { tcpPort: number; wsPort: number };
  config: GatewayConfig;
  /** Present when the gateway started its own redis-server. */
  embeddedRedis?: { url: string; dir: string; reused: boolean };
  close(): Promise<void>;
}

interface EmbeddedState {
  port: number;
  pid: number;
}

/**
 * Starts (or reuses, after an unclean exit) the redis-server under DATA_DIR/redis. Its state
 * file lets a restarted gateway find a still-running server instead of fighting it for the AOF.
 */
async function embeddedRedis(config: GatewayConfig, log: (line: string) => void): Promise<{ url: string; dir: string; reused: boolean; running?: RunningRedis }> {
  const dir = path.join(config.dataDir, 'redis');
  const stateFile = path.join(dir, 'embedded.json');
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as EmbeddedState;
    let alive = false;
    try {
      process.kill(state.pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (alive && (await pingRedis(state.port))) {
      log(`reusing the embedded redis-server still running on 127.0.0.1:${state.port} (pid ${state.pid})`);
      return { url: `redis://127.0.0.1:${state.port}`, dir, reused: true };
    }
  }
  const running = await startRedisServer({ dir, port: config.embeddedRedisPort || undefined, appendOnly: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ port: running.port, pid: running.pid } satisfies EmbeddedState));
  return { url: running.url, dir, reused: false, running };
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
  let embedded: Awaited<ReturnType<typeof embeddedRedis>> | undefined;
  let redis: Redis | Cluster;
  if (config.redisUrl) {
    redis = await connectRedis({ url: config.redisUrl, cluster: config.redisCluster });
  } else {
    embedded = await embeddedRedis(config, log);
    redis = await connectRedis({ url: embedded.url, cluster: false, source: 'the embedded redis-server (unset DATA_DIR or REDIS_URL)' });
  }
  const master = resolveMasterKey(config.masterKey, config.dataDir);
  const gateway = await buildApp({ config, redis, masterKey: master.key, ...(options.logger !== undefined ? { logger: options.logger as boolean } : {}) });

  try {
    await gateway.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await gateway.app.close();
    redis.disconnect();
    await embedded?.running?.stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CivicLoopError('CL_ERR_PORT_IN_USE', `Port ${config.port} on ${config.host} is taken; set PORT to a free port (for example PORT=${config.port + 1}).`);
    }
    throw error;
  }
  let telemetry: RunningTelemetry | undefined;
  if (config.mqttEnabled) {
    try {
      telemetry = await attachTelemetry(gateway, config);
    } catch (error) {
      await gateway.app.close();
      redis.disconnect();
      await embedded?.running?.stop();
      throw error;
    }
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
      if (embedded?.running) {
        await embedded.running.stop();
        writeFileSync(path.join(embedded.dir, 'embedded.json'), '{}');
      }
    })());

  return {
    ...gateway,
    url,
    config,
    ...(telemetry ? { mqtt: { tcpPort: telemetry.tcpPort, wsPort: telemetry.wsPort } } : {}),
    ...(embedded ? { embeddedRedis: { url: embedded.url, dir: embedded.dir, reused: embedded.reused } } : {}),
    close,
  };
}
