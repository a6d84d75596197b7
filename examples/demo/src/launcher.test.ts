import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@civicloop/gateway';
import { CivicLoop } from '@civicloop/sdk';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { demoGatewayEnv } from './gateway-env.js';
import { demoPortsFrom } from './pages.js';

// What `npm start` runs (after the build): the demo launcher, in a process of its own.
const launcher = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const gatewayCli = fileURLToPath(new URL('../../../packages/gateway/dist/cli.js', import.meta.url));

let redis: TestRedis | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), 'civicloop-demo-launcher-'));
afterAll(async () => {
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const answers = async (url: string) => {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
};

describe('the demo launcher (npm start)', { timeout: 120_000 }, () => {
  it('starts a gateway with the demo tenant and serves the three example pages beside it, allowed as origins; Ctrl-C stops them all', async () => {
    redis = await startTestRedis();
    const ports = { gateway: await freePort(), portal: await freePort(), console: await freePort(), workerApp: await freePort() };
    const child = spawn(process.execPath, [launcher, '--no-simulate'], {
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        PORT: String(ports.gateway),
        MQTT_PORT: String(await freePort()),
        MQTT_WS_PORT: String(await freePort()),
        JT808_PORT: 'false',
        DATA_DIR: dataDir,
        // Unset, as on a fresh machine: the launcher's own default (warn) must keep the terminal readable.
        LOG_LEVEL: '',
        DEMO_PORTAL_PORT: String(ports.portal),
        DEMO_CONSOLE_PORT: String(ports.console),
        DEMO_WORKER_APP_PORT: String(ports.workerApp),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 60_000 }).toContain('Ctrl-C stops the gateway and the pages');
      expect(out).toContain(`CivicLoop gateway listening on http://127.0.0.1:${ports.gateway}`);
      expect(out).toContain('Demo tenant DEMO');
      const pages = [`http://127.0.0.1:${ports.portal}/`, `http://127.0.0.1:${ports.console}/`, `http://127.0.0.1:${ports.workerApp}/`];
      for (const page of pages) await expect.poll(() => answers(page), { timeout: 30_000 }).toBe(200);
      const demo = JSON.parse(readFileSync(path.join(dataDir, 'demo-tenant.json'), 'utf8')) as { secretKey: string };
      const { tenant } = await new CivicLoop({ baseUrl: `http://127.0.0.1:${ports.gateway}`, apiKey: demo.secretKey }).me();
      for (const page of pages) expect(tenant.policy.allowedOrigins).toContain(new URL(page).origin);
      // The launcher's own calls (the policy above, the demo's seed) and the pages' were requests; none is a log line here.
      expect(out).toContain('LOG_LEVEL=info npm start shows every request');
      expect(out).not.toContain('"msg":"incoming request"');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    // The pages went with it.
    for (const port of [ports.portal, ports.console, ports.workerApp]) await expect.poll(() => answers(`http://127.0.0.1:${port}/`)).toBe(0);
  });

  it('runs its gateway at log level warn unless LOG_LEVEL says otherwise', () => {
    expect(demoGatewayEnv({ PORT: '9000' })).toEqual({ PORT: '9000', LOG_LEVEL: 'warn' });
    expect(demoGatewayEnv({ LOG_LEVEL: '  ' }).LOG_LEVEL).toBe('warn');
    expect(demoGatewayEnv({ LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
  });

  it('names the variable of a demo port that is not one', () => {
    expect(demoPortsFrom({})).toEqual({ portal: 8090, console: 8091, workerApp: 8092 });
    expect(demoPortsFrom({ DEMO_CONSOLE_PORT: '0' }).console).toBe(0);
    expect(() => demoPortsFrom({ DEMO_WORKER_APP_PORT: '80a' })).toThrow(/DEMO_WORKER_APP_PORT="80a" is not a port/);
  });

  it('is not in the published gateway, which starts no example', () => {
    const cli = readFileSync(gatewayCli, 'utf8');
    expect(cli).toContain('--demo');
    expect(cli).not.toMatch(/examples\/[\w-]+\/dist/);
    expect(cli).not.toContain('fleet-simulator');
  });
});
