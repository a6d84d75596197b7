import type { Cluster, Redis } from 'ioredis';
import { globalKeys } from './keys.js';
import { isRedisUnavailable } from './errors.js';

export type RedisHealth = { writes: 'ok' } | { writes: 'refused'; reason: string };

/**
 * Whether Redis takes writes, learnt by making one: a server that is up may still refuse every
 * write (out of memory, its disk full or its last snapshot failed, demoted to a replica), and
 * then every report and every device position is refused while reads go on. (A PING would not
 * do: it is refused too while Redis cannot write to its disk.) Throws when Redis cannot be
 * reached at all.
 */
export async function probeRedisWrites(redis: Redis | Cluster): Promise<RedisHealth> {
  try {
    await redis.set(globalKeys.healthProbe, String(Date.now()), 'PX', 60_000);
    return { writes: 'ok' };
  } catch (error) {
    // A reply that says "not now" (MISCONF, OOM, READONLY...): Redis is there but refuses writes.
    if (error instanceof Error && error.name === 'ReplyError' && isRedisUnavailable(error)) {
      return { writes: 'refused', reason: error.message.slice(0, 200) };
    }
    throw error;
  }
}
