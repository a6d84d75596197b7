import { type Redis, Cluster } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';
import { TurnBatchingRedis } from './turn-batching-redis.js';

const RECONNECT_MAX_DELAY_MS = 500;
const MAX_RETRIES_PER_REQUEST = 2;

export interface RedisConnectOptions {
  url: string;
  cluster: boolean;
  /** Name of the variable the URL came from, for error messages. */
  source?: string;
}

/**
 * Connects to Redis (or a Redis Cluster) and waits until it answers, so a wrong URL is reported
 * at start-up with the variable to change rather than on the first request.
 */
export async function connectRedis(options: RedisConnectOptions): Promise<Redis | Cluster> {
  const source = options.source ?? 'REDIS_URL';
  // Commands issued in the same turn of the event loop share one socket write and one round trip:
  // the main lever on throughput (TurnBatchingRedis says why it is not ioredis's auto-pipelining).
  // While Redis is unreachable a command fails at once (503 CL_ERR_UNAVAILABLE, which clients
  // retry after Retry-After) instead of waiting in an offline queue: requests must not pile up
  // behind an outage. Reconnection keeps trying every half second at most.
  // A duplicate() of this client inherits lazyConnect and the missing offline queue: whoever makes
  // one connects it before its first command (the command bus, StreamHub's readers), or that
  // command is refused.
  const reconnect = (times: number) => Math.min(times * 50, RECONNECT_MAX_DELAY_MS);
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    lazyConnect: true,
    retryStrategy: reconnect,
  } as const;
  const client = options.cluster
    ? new Cluster(
        options.url.split(',').map((part) => {
          const u = new URL(part.trim());
          return { host: u.hostname, port: Number(u.port || 6379) };
        }),
        // No auto-pipelining on a cluster: while a slot moves, ioredis sends a partly redirected
        // pipeline again whole, with ASKING, to the importing node, which answers the keys it has
        // not received yet as missing (a ticket read mid-resharding came back 404;
        // redis/reshard.test.ts). Each command is redirected on its own instead.
        {
          enableAutoPipelining: false,
          enableOfflineQueue: false,
          lazyConnect: true,
          clusterRetryStrategy: reconnect,
          redisOptions: { maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST },
        },
      )
    : new TurnBatchingRedis(options.url, common);
  let lastError: unknown;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await Promise.race([
      // A Redis that cannot write to its disk refuses PING with MISCONF: it is there, and the
      // gateway starts and serves reads (its health says the writes are refused).
      client
        .connect()
        .then(() => client.ping().catch((error: unknown) => (error instanceof Error && /^MISCONF/.test(error.message) ? 'MISCONF' : Promise.reject(error)))),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 10 s')), 10_000)),
    ]);
  } catch (error) {
    client.disconnect();
    const why = error instanceof Error ? error.message : String(lastError);
    throw new CivicLoopError('CL_ERR_CONFIG', `Cannot reach Redis at ${options.url} (${why}); check ${source}, or unset it to use the embedded redis-server.`);
  }
  return client;
}
