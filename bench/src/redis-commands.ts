import type { Redis } from 'ioredis';
import { info } from './quiet.js';

/** What redis-server did during one run: its `INFO commandstats` and network counters since the last reset. */
export interface RedisCommands {
  /**
   * Per command name (`evalsha`, `zadd`, ...): calls and µs Redis timed them for, by the clock (under load, waits for a
   * core included); a script's inner commands are counted under their own names too.
   */
  commands: Map<string, { calls: number; usec: number }>;
  inBytes: number;
  outBytes: number;
}

/**
 * Zeroes redis-server's command and network counters (`CONFIG RESETSTAT`), so that what
 * `readRedisCommands` reads next is one run's. The AOF and persistence counters `settle` reads are
 * not among them.
 */
export async function resetRedisCommands(redis: Redis): Promise<void> {
  await redis.config('RESETSTAT');
}

export async function readRedisCommands(redis: Redis): Promise<RedisCommands> {
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    commands.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  const stats = await info(redis, 'stats');
  return { commands, inBytes: stats('total_net_input_bytes'), outBytes: stats('total_net_output_bytes') };
}

/**
 * One line for a measure's runs together, per request: the bytes each way and each command's calls
 * and Redis time, the most expensive first, leaving out what the benchmark's own `INFO` and
 * `CONFIG` calls and the rare background commands add (under 0.01 calls per request).
 */
export function describeRedisCommands(runs: { redis: RedisCommands; requests: number }[]): string {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0) || 1;
  const total = new Map<string, { calls: number; usec: number }>();
  let inBytes = 0;
  let outBytes = 0;
  for (const { redis } of runs) {
    inBytes += redis.inBytes;
    outBytes += redis.outBytes;
    for (const [name, { calls, usec }] of redis.commands) {
      const sum = total.get(name) ?? { calls: 0, usec: 0 };
      total.set(name, { calls: sum.calls + calls, usec: sum.usec + usec });
    }
  }
  const listed = [...total]
    .filter(([, { calls }]) => calls / requests >= 0.01)
    .sort((a, b) => b[1].usec - a[1].usec)
    .map(([name, { calls, usec }]) => `${name} ${(calls / requests).toFixed(2)} (${(usec / requests).toFixed(1)} µs)`);
  return `${(inBytes / requests).toFixed(0)} B in, ${(outBytes / requests).toFixed(0)} B out; ${listed.join(', ')}`;
}
