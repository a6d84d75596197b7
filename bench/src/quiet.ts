import type { Redis } from 'ioredis';
import { cpuMs } from './process-cpu.js';

/**
 * redis-server arguments for a benchmark's Redis: AOF rewrites only when `settle` asks for one.
 * Left to Redis, a rewrite starts whenever the AOF has doubled, which in bench:api fell in about
 * one run in three, creates above all, and its forked child takes most of one of the two cores for
 * seconds from whichever run, measure or baseline, happens to be going: one round's ratio then
 * says more about where the rewrite fell than about the server measured.
 */
export const REWRITE_ONLY_WHEN_SETTLED = ['--auto-aof-rewrite-percentage', '0'];

/** One `INFO` section of redis-server, read once: a function giving a numeric field of it (0 when absent). */
export const info = async (redis: Redis, section: string) => {
  const text = await redis.info(section);
  return (field: string) => Number(text.match(new RegExp(`^${field}:(\\d+)`, 'm'))?.[1] ?? 0);
};

/**
 * Waits until the machine is quiet before a measured run: first the AOF rewrite Redis would have
 * made by now (its default rule: the AOF at least 64 MB and twice its size after the last
 * rewrite), run to its end, then until the processes named (servers still catching up on
 * background work, such as the statistics projector counting the last run's events) use at most
 * 4 % of a core for half a second.
 * Gives up waiting for quiet after 10 s, so a process that never rests only adds noise, as before.
 */
export async function settle(redis: Redis, pids: number[]): Promise<{ rewrote: boolean; waitedMs: number }> {
  const started = Date.now();
  const aof = await info(redis, 'persistence');
  const size = aof('aof_current_size');
  // Redis's defaults: auto-aof-rewrite-min-size 64mb, auto-aof-rewrite-percentage 100.
  const rewrote = aof('aof_enabled') === 1 && size >= 64 * 1024 * 1024 && size >= 2 * aof('aof_base_size');
  if (rewrote) await redis.bgrewriteaof();
  for (;;) {
    const state = await info(redis, 'persistence');
    if (!state('aof_rewrite_in_progress') && !state('aof_rewrite_scheduled')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const givenUp = Date.now() + 10_000;
  while (Date.now() < givenUp) {
    const before = pids.map(cpuMs);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // cpuMs counts in 10 ms clock ticks: 20 ms over 500 ms is 4 % of a core.
    if (pids.reduce((sum, pid, i) => sum + cpuMs(pid) - before[i]!, 0) <= 20) break;
  }
  return { rewrote, waitedMs: Date.now() - started };
}
