import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The gateway's built CLI (`civicloop-gateway`): dist/cli.js of the installed package. Found from
 * the package's root, since a loader that maps the package to its sources (tsx with the
 * repository's tsconfig paths) resolves its entry into src/.
 */
export function gatewayCli(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@civicloop/gateway'));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'cli.js');
}

export interface GatewayProcess {
  name: string;
  url: string;
  env: Record<string, string>;
  /** Its process id (a new one after restart()). */
  pid(): number;
  /** Everything it printed so far (the last 64 kB). */
  output(): string;
  /** Kills it (SIGKILL by default: no warning, as a crashed machine) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same environment and arguments. */
  restart(): Promise<void>;
  /** SIGTERM: it finishes what is in flight and exits. */
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  name: string;
  env: Record<string, string>;
  /** After `start`: --demo, --no-simulate. */
  args?: string[];
  /** Each line it prints, as it prints it. */
  echo?: (line: string) => void;
}

/** `civicloop-gateway start` in a process of its own; resolves once it says it is listening. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const cli = gatewayCli();
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first.`);
  // The demo serves the examples by their paths from the repository root.
  const root = path.resolve(path.dirname(cli), '../../..');
  const cwd = existsSync(path.join(root, 'examples')) ? root : process.cwd();
  let child: ChildProcess;
  let printed = '';

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      child = spawn(process.execPath, [cli, 'start', ...(options.args ?? [])], {
        cwd,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let pending = '';
      const take = (chunk: Buffer) => {
        printed = (printed + chunk.toString()).slice(-65_536);
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.echo?.(line);
        if (printed.includes('Ctrl-C stops the gateway')) resolve();
      };
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      child.once('exit', (code, signal) => reject(new Error(`${options.name} exited (${signal ?? code}) before it was listening:\n${printed.slice(-4000)}`)));
    });
  await launch();

  const exited = () => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    name: options.name,
    url: `http://127.0.0.1:${options.env.PORT}`,
    env: options.env,
    pid: () => child.pid!,
    output: () => printed,
    async kill(signal = 'SIGKILL') {
      const done = exited();
      child.kill(signal);
      await done;
    },
    async restart() {
      printed = '';
      await launch();
    },
    async stop() {
      const done = exited();
      child.kill('SIGTERM');
      await done;
    },
  };
}
