import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from '@civicloop/gateway';

/** Where Debian's mosquitto package puts the broker and its dynamic security plugin. */
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
export const DYNSEC_PLUGIN = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
].find((p) => existsSync(p));

export interface RunningMosquitto {
  url: string;
  port: number;
  pid: number;
  /** The dynamic security admin, which the gateways use as their broker account. */
  admin: { username: string; password: string };
  /** mosquitto's own log. */
  logFile: string;
  /** Runs `mosquitto_ctrl dynsec <args>` as the admin, as an operator would, and returns what it prints. */
  dynsec(...args: string[]): string;
  /** SIGSTOP: the broker holds its connections but answers nothing, as a hung broker does. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** Where its configuration, dynamic security file and log go. Default: a new temporary directory, removed by stop(). */
  dir?: string;
  /** Default: a free port. */
  port?: number;
}

/**
 * mosquitto 2 on 127.0.0.1 with the dynamic security plugin, its admin made by `mosquitto_ctrl
 * dynsec init` as an operator would: anonymous clients refused, every other account and role
 * made over the plugin's own API (the gateways do that for devices). The gateways' sessions may
 * queue many messages (max_queued_messages), as a deployment needs while a gateway restarts.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<RunningMosquitto> {
  if (!DYNSEC_PLUGIN) throw new Error("mosquitto's dynamic security plugin is not installed: apt-get install -y mosquitto");
  const temporary = !options.dir;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'civicloop-mosquitto-'));
  mkdirSync(dir, { recursive: true });
  const admin = { username: 'civicloop-admin', password: `pw-${randomBytes(12).toString('hex')}` };
  const dynsecFile = path.join(dir, 'dynamic-security.json');
  rmSync(dynsecFile, { force: true });
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, admin.username, admin.password], { stdio: 'ignore' });
  const port = options.port ?? (await freePort());
  if (!(await isFree(port))) throw new Error(`Port ${port} for mosquitto is taken; set MQTT_PORT to a free port.`);
  const logFile = path.join(dir, 'mosquitto.log');
  writeFileSync(
    path.join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${dynsecFile}`,
      // Run as the user that owns the directory, so the plugin can save its file (as root, mosquitto would switch to "mosquitto").
      `user ${userInfo().username}`,
      'persistence false',
      'max_queued_messages 1000000',
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, child);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    admin,
    logFile,
    dynsec: (...args) => {
      const run = spawnSync('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(port), '-u', admin.username, '-P', admin.password, 'dynsec', ...args], {
        encoding: 'utf8',
      });
      return `${run.stdout}${run.stderr}`;
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      child.kill('SIGCONT');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      if (temporary) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
