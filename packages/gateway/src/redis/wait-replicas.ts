import { Cluster, type Redis } from 'ioredis';
import { CivicLoopError } from '@civicloop/model';

/** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS: how many replicas must confirm a write, and for how long to wait. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

/**
 * Waits until `wait.replicas` replicas have every write this client connection has made to the
 * primary that holds `routingKey` (Redis WAIT), and throws CL_ERR_NOT_REPLICATED if fewer
 * confirm within the timeout. The write is not undone then: Redis cannot take it back, which is
 * why the error tells the caller to retry with the same idempotency key.
 *
 * WAIT counts the writes of the connection it is sent on, so it must go to the same node as the
 * write. On a cluster it carries no key of its own: it is sent in a pipeline behind a command on
 * `routingKey`, which ioredis routes to that key's primary.
 */
export async function waitForReplicas(redis: Redis | Cluster, routingKey: string, wait: ReplicaWait | undefined): Promise<void> {
  if (!wait || wait.replicas === 0) return;
  let acknowledged: number;
  if (redis instanceof Cluster) {
    const replies = await redis.pipeline().exists(routingKey).call('WAIT', wait.replicas, wait.timeoutMs).exec();
    const [error, value] = replies?.[1] ?? [new Error('no reply to WAIT'), 0];
    if (error) throw error;
    acknowledged = Number(value);
  } else {
    acknowledged = Number(await redis.call('WAIT', wait.replicas, wait.timeoutMs));
  }
  if (acknowledged < wait.replicas) {
    throw new CivicLoopError(
      'CL_ERR_NOT_REPLICATED',
      `The write is on the Redis primary, but ${acknowledged} of the ${wait.replicas} replicas REDIS_WAIT_REPLICAS ` +
        `asks for confirmed it within ${wait.timeoutMs} ms (REDIS_WAIT_TIMEOUT_MS); retry with the same Idempotency-Key.`,
    );
  }
}
