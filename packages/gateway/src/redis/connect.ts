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
  /** REDIS_SOCKET_TIMEOUT_MS: how long a command may go unanswered before the connection is taken for dead (0: forever). */
  socketTimeoutMs?: number | undefined;
}

/** REDIS_SOCKET_TIMEOUT_MS's default (core/config.ts), and every connection's unless told otherwise. */
export const DEFAULT_REDIS_SOCKET_TIMEOUT_MS = 5000;

interface HangOptions {
  socketTimeout?: number;
  commandTimeout?: number;
  autoResendUnfulfilledCommands?: boolean;
}

/**
 * The ioredis options for REDIS_SOCKET_TIMEOUT_MS. With a command out and no reply for that
 * long, ioredis destroys the socket and reconnects (`socketTimeout`), and the command fails
 * (`commandTimeout`: ioredis itself would keep it to send again once a connection is ready,
 * which a hung server never gives). A command that was out when its connection died is not sent
 * again later: its caller was already told it failed and may have retried.
 */
export function hangOptions(ms: number | undefined): HangOptions {
  return ms && ms > 0 ? { socketTimeout: ms, commandTimeout: ms, autoResendUnfulfilledCommands: false } : {};
}

/**
 * Another connection like this client, for a command that blocks on purpose (XREAD BLOCK): its
 * socket timeout, if any, is longer by the blocking time, so that a quiet stream is not taken
 * for a dead connection, while a hung Redis still is.
 */
export function duplicateForBlocking(redis: Redis | Cluster, blockMs: number): Redis | Cluster {
  if (redis instanceof Cluster) {
    const redisOptions = redis.options.redisOptions ?? {};
    return redisOptions.socketTimeout
      ? redis.duplicate(undefined, { redisOptions: { ...redisOptions, ...hangOptions(redisOptions.socketTimeout + blockMs) } })
      : redis.duplicate();
  }
  const { socketTimeout } = redis.options;
  return socketTimeout ? redis.duplicate(hangOptions(socketTimeout + blockMs)) : redis.duplicate();
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
  // A hung, paused or unreachable Redis (no reset, no reply) would otherwise hold every request
  // for as long as TCP keeps the connection, which is forever when the host still acknowledges.
  const common = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    lazyConnect: true,
    retryStrategy: reconnect,
    ...hangOptions(options.socketTimeoutMs ?? DEFAULT_REDIS_SOCKET_TIMEOUT_MS),
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
          redisOptions: { maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST, ...hangOptions(options.socketTimeoutMs ?? DEFAULT_REDIS_SOCKET_TIMEOUT_MS) },
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
