import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { redisIsThere, startRedisServer, type RunningRedis } from './embedded-redis.js';

interface EmbeddedState {
  port: number;
  pid: number;
}

export interface EmbeddedRedis {
  url: string;
  dir: string;
  /** True when a server left running by an earlier gateway was taken over. */
  reused: boolean;
  /** The current redis-server's process id (changes when it is restarted). */
  readonly pid: number;
  /** How many times the server died and was started again. */
  readonly restarts: number;
  /** Stops watching and stops the server (SIGTERM: it flushes its AOF first). */
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** How often a server this gateway did not start itself (a reused one) is checked for. */
const WATCH_INTERVAL_MS = 1000;
const RESTART_BACKOFF_MS = [100, 250, 500, 1000, 2000, 5000];

/**
 * The gateway's own redis-server under DATA_DIR/redis, supervised: if it dies (killed, OOM,
 * crashed), the gateway starts it again on the same port with the same directory and AOF, logs
 * it, and its Redis client reconnects by itself, so health recovers without a restart. A state
 * file lets a restarted gateway find a still-running server instead of fighting it for the AOF.
 */
/** Where the embedded server keeps its data and on which port it listens (DATA_DIR, EMBEDDED_REDIS_PORT). */
export interface EmbeddedRedisOptions {
  dataDir: string;
  /** 0 or unset: a free port. */
  embeddedRedisPort?: number | undefined;
}

// Long: finding or starting the server and supervising it share its state (port, pid, the restart loop).
export async function startEmbeddedRedis(config: EmbeddedRedisOptions, log: (line: string) => void): Promise<EmbeddedRedis> {
  const dir = path.join(config.dataDir, 'redis');
  const stateFile = path.join(dir, 'embedded.json');
  const remember = (state: EmbeddedState | Record<string, never>) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(stateFile, JSON.stringify(state));
  };

  let port: number;
  let pid: number;
  let child: RunningRedis | undefined;
  let reused = false;
  const previous = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<EmbeddedState>) : {};
  if (previous.pid && previous.port && alive(previous.pid) && (await redisIsThere(previous.port))) {
    log(`reusing the embedded redis-server still running on 127.0.0.1:${previous.port} (pid ${previous.pid})`);
    ({ port, pid } = previous as EmbeddedState);
    reused = true;
  } else {
    child = await startRedisServer({ dir, port: config.embeddedRedisPort || undefined, appendOnly: true });
    ({ port, pid } = child);
    remember({ port, pid });
  }

  let stopped = false;
  let restarts = 0;
  let restarting = false;
  let watcher: NodeJS.Timeout | undefined;

  async function restart(why: string): Promise<void> {
    if (stopped || restarting) return;
    restarting = true;
    log(`the embedded redis-server (pid ${pid}) ${why}; starting it again on 127.0.0.1:${port} with its AOF in ${dir}`);
    for (let attempt = 0; !stopped; attempt++) {
      try {
        child = await startRedisServer({ dir, port, appendOnly: true });
        pid = child.pid;
        restarts++;
        remember({ port, pid });
        follow(child);
        log(`the embedded redis-server is back (pid ${pid}, restart ${restarts})`);
        break;
      } catch (error) {
        const wait = RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]!;
        log(`could not restart the embedded redis-server (${(error as Error).message.split('\n')[0]}); trying again in ${wait} ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    restarting = false;
  }

  function follow(running: RunningRedis): void {
    running.process.once('exit', (code, signal) => {
      if (!stopped && running === child) void restart(`exited (${signal ?? `code ${code}`})`);
    });
  }

  if (child) follow(child);
  else {
    // Not our child: look for it now and then.
    watcher = setInterval(() => {
      if (!child && !alive(pid)) void restart('is gone');
    }, WATCH_INTERVAL_MS);
    watcher.unref();
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    dir,
    reused,
    get pid() {
      return pid;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopped = true;
      clearInterval(watcher);
      if (child) await child.stop();
      else if (alive(pid)) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      }
      remember({});
    },
  };
}
