import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@civicloop/gateway';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

/**
 * The SDK in workerd, the runtime of Cloudflare Workers: the fixture worker is bundled as
 * wrangler bundles one (esbuild, the `workerd`/`worker`/`browser` conditions) and served by the
 * workerd binary from npm, and it talks to a real gateway over the network.
 */
const source = (file: string) => fileURLToPath(new URL(file, import.meta.url));
// The workerd package's main module (CommonJS): the binary's path, and the newest date it knows.
const workerd = createRequire(import.meta.url)('workerd') as { default: string; compatibilityDate: string };

async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [source('./fixtures/edge-worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    logLevel: 'silent',
    alias: { '@civicloop/model/token': source('../../model/src/token.ts'), '@civicloop/model': source('../../model/src/index.ts') },
  });
  return result.outputFiles[0]!.text;
}

/** workerd's config: the worker on a local socket, its fetches allowed to loopback (where the gateway is). */
function capnpConfig(port: number, compatibilityDate: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeWorker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const edgeWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "${compatibilityDate}",
);
`;
}

interface RunningWorker {
  url: string;
  stderr: () => string;
  stop(): Promise<void>;
}

async function startWorkerd(dir: string, compatibilityDate: string): Promise<RunningWorker> {
  const port = await freePort();
  writeFileSync(path.join(dir, 'config.capnp'), capnpConfig(port, compatibilityDate));
  const child: ChildProcess = spawn(workerd.default, ['serve', path.join(dir, 'config.capnp')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  await expect
    .poll(async () => {
      if (child.exitCode !== null) throw new Error(`workerd exited ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/received`).catch(() => undefined))?.status;
    })
    .toBe(200);
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let gw: TestGateway;
let dir: string;
let bundle: string;

beforeAll(async () => {
  gw = await startTestGateway({ webhookAllowPrivateTargets: true, webhookPollMs: 50 });
  dir = mkdtempSync(path.join(tmpdir(), 'civicloop-workerd-'));
  bundle = await bundleWorker();
  writeFileSync(path.join(dir, 'worker.js'), bundle);
});
afterAll(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the SDK in workerd (Cloudflare Workers)', () => {
  it('bundles for Workers without Node built-ins', () => {
    expect(bundle).not.toMatch(/from\s*"node:|require\("node:/);
  });

  it.each(['2021-11-03', '2022-11-30', '2023-07-01', '2024-09-23', workerd.compatibilityDate])(
    'signs a token, reports, retries, reads, pages, streams and takes signed webhooks (compatibility date %s)',
    async (date) => {
      const worker = await startWorkerd(dir, date);
      try {
        // Twice: the second request uses the client the first one made.
        for (let i = 0; i < 2; i++) await roundIn(worker);
      } finally {
        await worker.stop();
      }
    },
  );
});

async function roundIn(worker: RunningWorker): Promise<void> {
  const response = await fetch(`${worker.url}/round`, {
    method: 'POST',
    body: JSON.stringify({ baseUrl: gw.url, publishableKey: gw.tenant.publishableKey, secretKey: gw.tenant.secretKey }),
  });
  const round = await response.json();
  expect(response.status, JSON.stringify(round) + worker.stderr()).toBe(200);
  const [first, second] = round.created as [string, string];
  expect(first).not.toBe(second);
  expect(round).toMatchObject({
    retriedSameTicket: true,
    read: { id: first, status: 'reported', description: 'Reported from the edge, first', reporter: { sub: round.sub, role: 'citizen' } },
    // The resident's own reports, newest first, one page at a time.
    paged: [second, first],
    streamed: { type: 'reported', ticketId: first },
    badInput: { thrown: true, name: 'InvalidRequestError', code: 'CL_ERR_VALIDATION', status: 400, isApiError: true },
    badToken: { thrown: true, name: 'AuthenticationError', code: 'CL_ERR_TOKEN_INVALID', status: 401, isApiError: true },
    abortedFirst: { thrown: true, name: 'AbortError', code: 'CL_ERR_ABORTED', isApiError: true },
  });
  // What the worker did is in the gateway: the retry made no third ticket.
  const direct = await fetch(`${gw.url}/v1/tickets?limit=50`, { headers: { authorization: `Bearer ${gw.tenant.secretKey}` } });
  const mine = ((await direct.json()) as { items: { id: string; reporter: { sub: string } }[] }).items.filter((t) => t.reporter.sub === round.sub);
  expect(mine.map((t) => t.id)).toEqual([second, first]);

  // The gateway's webhook deliveries reach the worker, which checks their signatures.
  await expect
    .poll(async () => ((await (await fetch(`${worker.url}/received`)).json()) as { received: { ticketId: string }[] }).received.map((r) => r.ticketId))
    .toEqual(expect.arrayContaining([first, second]));
  const forged = await fetch(`${worker.url}/webhook`, {
    method: 'POST',
    headers: { 'civicloop-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    body: JSON.stringify({ id: 'forged', type: 'ticket.reported', createdAt: new Date().toISOString(), data: {} }),
  });
  const received = (await (await fetch(`${worker.url}/received`)).json()) as { received: { type: string }[]; refused: string[] };
  expect([forged.status, received.refused.at(-1)]).toEqual([400, 'CL_ERR_WEBHOOK_SIGNATURE']);
  expect(new Set(received.received.map((r) => r.type))).toEqual(new Set(['ticket.reported']));
}
