import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** The processes whose parent is `pid` (read from /proc, so nothing beyond Linux is needed). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // "pid (comm) state ppid ...": the command may hold spaces, so read after its ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function lastSnapshot(client: Redis, status: 'ok' | 'err'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const info = await client.info('persistence');
    if (info.includes('rdb_bgsave_in_progress:0') && info.includes(`rdb_last_bgsave_status:${status}`)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the snapshot did not end with status ${status}`);
}

/**
 * Brings a real redis-server into the state it is in when it cannot write to its disk: its last
 * snapshot failed (here: the saving child is killed, as the kernel's OOM killer or a full disk
 * would end it), and with save points set it refuses every write, and PING, with MISCONF.
 */
export async function failSnapshot(client: Redis): Promise<void> {
  await client.config('SET', 'save', '3600 1');
  // A second per key: the saving child lives long enough to be found.
  await client.config('SET', 'rdb-key-save-delay', '1000000');
  await client.set('civicloop-test:snapshot', '1');
  const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
  await client.bgsave();
  let saver: number | undefined;
  for (let i = 0; i < 200 && saver === undefined; i++) {
    saver = childrenOf(pid)[0];
    if (saver === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (saver === undefined) throw new Error(`redis-server ${pid} started no saving child`);
  process.kill(saver, 'SIGKILL');
  await lastSnapshot(client, 'err');
  await client.del('civicloop-test:snapshot').then(
    () => {
      throw new Error('redis-server still takes writes');
    },
    (error: Error) => {
      if (!/^MISCONF/.test(error.message)) throw error;
    },
  );
}

/** The disk is back: a snapshot succeeds, and the server takes writes again. */
export async function recoverSnapshot(client: Redis): Promise<void> {
  await client.config('SET', 'rdb-key-save-delay', '0');
  await client.bgsave();
  await lastSnapshot(client, 'ok');
  await client.config('SET', 'save', '');
}

/** No save points: a server left failing to save would otherwise refuse to exit on SIGTERM. */
export async function stopSnapshots(client: Redis): Promise<void> {
  await client.config('SET', 'rdb-key-save-delay', '0');
  await client.config('SET', 'save', '');
}
