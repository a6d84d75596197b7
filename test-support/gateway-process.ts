import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@civicloop/gateway';
import { startTestRedis, type TestRedis } from './gateway-harness.js';

const cli = fileURLToPath(new URL('../packages/gateway/src/cli.ts', import.meta.url));

/**
 * The gateway's CLI (`civicloop start`) in a process of its own, so a test can kill it without
 * warning (SIGKILL) and start it again on the same Redis. Resolves once it says it is listening.
 * `wrapper` is a command that runs it (and execs it, so the process is the gateway's).
 */
export function startGatewayProcess(env: Record<string, string>, wrapper: string[] = []): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const command = [...wrapper, process.execPath, '--import', 'tsx', cli, 'start'];
    const proc = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C')) resolve(proc);
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${out}`)));
  });
}

/**
 * A gateway process on its own private Redis, every port free, for crash tests: kill it, start it
 * again on the same data, and look into Redis. The operator token is `crash-operator`.
 */
export class CrashableGateway {
  private constructor(
    readonly redis: TestRedis,
    readonly env: Record<string, string>,
    private child: ChildProcess,
  ) {}

  static async start(options: { jt808?: boolean } = {}): Promise<CrashableGateway> {
    const redis = await startTestRedis();
    const env = {
      REDIS_URL: redis.url,
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: String(await freePort()),
      JT808_PORT: options.jt808 ? String(await freePort()) : 'false',
      LOG_LEVEL: 'warn',
      CIVICLOOP_OPERATOR_TOKEN: 'crash-operator',
      CIVICLOOP_MASTER_KEY: 'crash-master',
    };
    return new CrashableGateway(redis, env, await startGatewayProcess(env));
  }

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  /** SIGKILL, no warning; resolves once the process has exited. */
  kill(): Promise<void> {
    const exited = new Promise<void>((resolve) =>
      this.child.exitCode !== null || this.child.signalCode !== null ? resolve() : this.child.once('exit', () => resolve()),
    );
    this.child.kill('SIGKILL');
    return exited;
  }

  /** A new process on the same ports and Redis. */
  async restart(): Promise<void> {
    this.child = await startGatewayProcess(this.env);
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.redis.stop();
  }
}
