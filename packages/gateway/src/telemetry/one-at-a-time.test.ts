import { describe, expect, it } from 'vitest';
import { OneAtATime } from './one-at-a-time.js';

/** A task that records when it starts and ends, and ends when `finish` is called (or fails). */
function task(log: string[], name: string) {
  let finish!: (ok: boolean) => void;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const run = async () => {
    log.push(`${name} start`);
    const ok = await done;
    log.push(`${name} end`);
    if (!ok) throw new Error(`${name} failed`);
  };
  return { run, finish: (ok = true) => finish(ok) };
}

describe('OneAtATime', () => {
  it('starts a key task only once the one before it settled, failed or not, and runs other keys alongside', async () => {
    const queue = new OneAtATime<string>();
    const log: string[] = [];
    const [a1, a2, a3, b1] = [task(log, 'a1'), task(log, 'a2'), task(log, 'a3'), task(log, 'b1')];
    const runs = [queue.run('a', a1.run), queue.run('a', a2.run), queue.run('a', a3.run), queue.run('b', b1.run)];
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['a1 start', 'b1 start']);
    a1.finish(false);
    await expect(runs[0]).rejects.toThrow('a1 failed');
    await expect.poll(() => log.at(-1)).toBe('a2 start');
    a2.finish();
    await runs[1];
    await expect.poll(() => log.at(-1)).toBe('a3 start');
    a3.finish();
    b1.finish();
    await Promise.all(runs.slice(2));
    expect(log).toEqual(['a1 start', 'b1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end', 'b1 end']);
  });
});
