import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { CivicLoopError } from '@civicloop/model';

const SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

export function findRedisServer(): string | undefined {
  return findProgram('redis-server');
}

export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Finds a program, installing its Debian package when it is missing and we are root with
 * apt-get (a fresh machine). Returns undefined when that is not possible.
 */
export function ensureDebianProgram(
  program: string,
  pkg: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): string | undefined {
  const found = findProgram(program);
  if (found) return found;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot() || !hasApt) return undefined;
  log(`${program} is not installed; installing Debian package ${pkg} with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return install && install.status === 0 ? findProgram(program) : undefined;
}

/**
 * Finds redis-server, installing Debian's package when it is missing and we are root (a fresh
 * machine), and otherwise says exactly how to get one.
 */
export function ensureRedisServer(log?: (line: string) => void): string {
  const found = ensureDebianProgram('redis-server', 'redis-server', log);
  if (found) return found;
  throw new CivicLoopError(
    'CL_ERR_REDIS_SERVER_MISSING',
    isRoot()
      ? 'redis-server is not installed and apt-get could not install it; install Redis 7 yourself, or set REDIS_URL to an existing Redis.'
      : "redis-server is not installed; run `sudo apt-get install -y redis-server` (or your platform's package), or set REDIS_URL to an existing Redis.",
  );
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The first line a server on the port answers PING with; undefined when none answers within a second. */
function answerToPing(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let answer = '';
    const done = (line: string | undefined) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.slice(0, answer.indexOf('\r\n')));
    });
  });
}

/** True when something on the port answers PING like Redis does, and is ready for commands. */
async function pingRedis(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await answerToPing(port, host))?.startsWith('+PONG') ?? false;
}

/**
 * True when a redis-server is on the port, ready or not: one that is loading its data, running a
 * long script, or cannot write to its disk (which refuses PING with MISCONF) is still there, and
 * still holds its AOF; no second server may be started on its directory.
 */
export async function redisIsThere(port: number, host = '127.0.0.1'): Promise<boolean> {
  return /^(\+PONG|-MISCONF|-LOADING|-BUSY)/.test((await answerToPing(port, host)) ?? '');
}

export interface RedisServerOptions {
  /** Working directory for AOF / RDB files. */
  dir: string;
  port?: number;
  /** AOF with fsync every second: at most one second of writes lost on a crash. */
  appendOnly?: boolean;
  extraArgs?: string[];
  binary?: string;
}

export interface RunningRedis {
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a private redis-server on loopback and resolves once it accepts connections. */
export async function startRedisServer(options: RedisServerOptions): Promise<RunningRedis> {
  const binary = options.binary ?? ensureRedisServer();
  const port = options.port ?? (await freePort());
  mkdirSync(options.dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => fail(new Error(`redis-server did not start within 15 s:\n${output}`)), 15_000);
    const onExit = (code: number | null) => {
      const taken = /Address already in use/i.test(output);
      fail(
        taken
          ? new CivicLoopError(
              'CL_ERR_PORT_IN_USE',
              `Port ${port} for the embedded redis-server is taken; set EMBEDDED_REDIS_PORT to a free port or set REDIS_URL.`,
            )
          : new Error(`redis-server exited with code ${code}:\n${output}`),
      );
    };
    const fail = (error: Error) => {
      clearTimeout(deadline);
      clearInterval(probe);
      child.off('exit', onExit);
      reject(error);
    };
    child.once('exit', onExit);
    let probing = false;
    const probe = setInterval(() => {
      if (probing) return;
      probing = true;
      void pingRedis(port).then((ready) => {
        probing = false;
        if (!ready) return;
        clearTimeout(deadline);
        clearInterval(probe);
        child.off('exit', onExit);
        resolve();
      });
    }, 50);
  });

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // SIGTERM makes redis-server flush the AOF before it exits.
        child.kill('SIGTERM');
      }),
  };
}
