import { parentPort, workerData } from 'node:worker_threads';
import type { GatewayConfig } from './core/config.js';
import { connectRedis } from './redis/connect.js';
import { buildServices } from './services-factory.js';
import { StatsProjector } from './stats/stats-projector.js';

/** What the gateway hands its statistics thread (stats-thread.ts). */
export interface StatsWorkerData {
  config: GatewayConfig;
  /** The Redis the gateway connected to (REDIS_URL, or the embedded server's). */
  redisUrl: string;
  masterKey: string;
}

/** What the thread tells the gateway: it counts now, it cannot start, or a pass failed (for the gateway's log). */
export type StatsWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; err: { message: string; stack?: string } }
  | { kind: 'warn'; message: string; err?: { message: string; stack?: string } };

const described = (error: unknown) => (error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) });

/**
 * The statistics projector's passes on a thread of their own: counting events never holds the
 * thread that serves requests. Its own Redis connection and services; the same lock and cursor as
 * any gateway's projector, so it shares the work with them as another gateway would. 'stop' from
 * the gateway: the pass in progress finishes, the connection closes, the thread ends (exit code 0).
 */
async function run(): Promise<void> {
  const { config, redisUrl, masterKey } = workerData as StatsWorkerData;
  const port = parentPort!;
  const tell = (message: StatsWorkerMessage) => port.postMessage(message);
  const redis = await connectRedis({ url: redisUrl, cluster: config.redisCluster, socketTimeoutMs: config.redisSocketTimeoutMs });
  const { services } = buildServices({ config, redis, masterKey });
  const log = {
    warn(obj: object, message: string): void {
      const error = (obj as { err?: unknown }).err;
      tell({ kind: 'warn', message, ...(error === undefined ? {} : { err: described(error) }) });
    },
  };
  const projector = new StatsProjector(services, log);
  port.on('message', async (message: unknown) => {
    if (message !== 'stop') return;
    await projector.stop();
    redis.disconnect();
    // Ends this thread only; caches' timers and the like need not be hunted down one by one.
    process.exit(0);
  });
  projector.start(config.schedulerPollMs);
  tell({ kind: 'ready' });
}

// Not a top-level await, which the CommonJS build cannot have. A thread that cannot start (its
// Redis unreachable) says why and ends before it said it was ready: the gateway then counts on its
// own thread.
run().catch((error: unknown) => {
  parentPort!.postMessage({ kind: 'failed', err: described(error) } satisfies StatsWorkerMessage);
  process.exit(1);
});
