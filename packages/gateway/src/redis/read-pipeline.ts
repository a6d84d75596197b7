import { Cluster, type Redis } from 'ioredis';

type Pipeline = ReturnType<Redis['pipeline']>;

/**
 * Several reads sent together, answered as `pipeline.exec()` answers: `[error, reply]` each.
 *
 * On a single Redis this is a pipeline. On a cluster each read is sent as a command of its own
 * (in the same tick, so still one round trip per node): while a slot is being moved, a pipeline
 * that is partly redirected (ASK) is sent again whole by ioredis, with ASKING, to the importing
 * node, which answers the keys it has not received yet as missing. A list read mid-resharding
 * would silently drop tickets (redis/reshard.test.ts).
 */
export function readPipeline(redis: Redis | Cluster): Pipeline {
  if (!(redis instanceof Cluster)) return redis.pipeline();
  const calls: (() => Promise<unknown>)[] = [];
  const recorder: Pipeline = new Proxy({} as Pipeline, {
    get(_target, name) {
      if (name === 'exec') {
        return () =>
          Promise.all(
            calls.map((call) =>
              call().then(
                (reply): [null, unknown] => [null, reply],
                (error: Error): [Error, null] => [error, null],
              ),
            ),
          );
      }
      // Not a thenable: awaiting the recorder itself is a mistake, not a way to run it.
      if (name === 'then' || typeof name !== 'string') return undefined;
      return (...args: unknown[]) => {
        calls.push(() => (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args));
        return recorder;
      };
    },
  });
  return recorder;
}
