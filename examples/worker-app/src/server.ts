import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CivicLoop, NotFoundError, signToken, type Staff } from '@civicloop/sdk';
import { tenantOfKey } from '@civicloop/model';
import { demoSignIn } from './demo-sign-in.js';
import { bootstrapper, embedJson } from './bootstrap.js';
import { compressed } from './compressed.js';
import { appShell, signInPage } from './pages.js';

export interface WorkerAppOptions {
  /** Where phones reach the CivicLoop gateway. */
  gatewayUrl: string;
  /** Stays on this server: signs the workers' tokens and provisions their phones as badges. */
  secretKey: string;
  publishableKey: string;
  /**
   * Where a phone connects as a badge (MQTT over WebSocket): the gateway's `ws://host:8083`
   * (MQTT_WS_PORT), or the external broker's WebSocket listener. Without it phones send no
   * positions, and arriving is by hand only.
   */
  deviceUrl?: string;
  /**
   * Who a request comes from: the staff id (a worker in the staff directory), or undefined when
   * nobody is signed in. Put your identity provider's session here. Default: the demo sign-in
   * (a worker picks their name; see demo-sign-in.ts), which proves nothing about the person.
   */
  identify?: (request: IncomingMessage) => string | undefined | Promise<string | undefined>;
  port?: number;
  host?: string;
  /** Where the built page is. Default: public/ beside this file in dist. */
  publicDir?: URL;
  /** Lifetime of the worker tokens the app gets; it renews them before they expire. Default 3600 s. */
  tokenTtlSeconds?: number;
}

/** Built files the server hands out as they are, with their type and whether they may be cached for good. */
const STATIC: Record<string, { type: string; immutable?: boolean }> = {
  '/app.js': { type: 'text/javascript; charset=utf-8' },
  '/app.js.map': { type: 'application/json' },
  '/app.css': { type: 'text/css; charset=utf-8' },
  '/sw.js': { type: 'text/javascript; charset=utf-8' },
  '/manifest.webmanifest': { type: 'application/manifest+json' },
  '/icons/icon.svg': { type: 'image/svg+xml' },
  '/icons/icon-192.png': { type: 'image/png' },
  '/icons/icon-512.png': { type: 'image/png' },
};
/** A chunk the entry script loads: `/chunks/<name>-<hash>.js` (or its map), nothing else. */
const CHUNK = /^\/chunks\/[A-Za-z0-9_-]{1,80}\.js(\.map)?$/;
/** Device ids allow letters, digits, `_` and `-`, at most 48. */
const phoneBadgeId = (sub: string) => `phone-${sub.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 48);

/**
 * The worker app's small server: the app shell (cached by its service worker, so the app opens
 * offline), a worker token for the signed-in worker, and their phone's badge credential.
 */
// Long: the example's server, read top to bottom: its pages, its routes and the SDK calls behind them in one place.
export async function startWorkerApp(options: WorkerAppOptions): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = options.gatewayUrl.replace(/\/+$/, '');
  const publicDir = options.publicDir ?? new URL('./public/', import.meta.url);
  const keyTenant = tenantOfKey(options.secretKey);
  if (!keyTenant) throw new Error('worker-app: secretKey is not a CivicLoop secret key (cl_sk_<tenant>_...).');
  const tenantId: string = keyTenant;
  const server = new CivicLoop({ baseUrl: gateway, apiKey: options.secretKey });
  const host = options.host ?? '127.0.0.1';
  const demo = options.identify ? undefined : demoSignIn(options.secretKey, false);
  const identify = options.identify ?? ((request: IncomingMessage) => demo!.workerOf(request));

  // The directory, read at most every 30 s: who is a worker, their name, unit and skills.
  let directory: { at: number; staff: Promise<Staff[]> } | undefined;
  const staffList = () => {
    if (!directory || Date.now() - directory.at > 30_000) {
      const staff = server.staff.list();
      directory = { at: Date.now(), staff };
      staff.catch(() => (directory = undefined));
    }
    return directory.staff;
  };
  const workerNamed = async (sub: string | undefined) => (sub ? (await staffList()).find((s) => s.id === sub && s.active && s.role === 'worker') : undefined);

  const json = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const connectTo = [gateway, ...(options.deviceUrl ? [new URL(options.deviceUrl).origin.replace(/^http/, 'ws')] : [])].join(' ');
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src 'self' ${connectTo}`,
    `img-src 'self' data: blob: https: ${gateway}`,
    "style-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  // Compressed when the browser takes it: on a slow phone network the bytes are the wait.
  const send = (request: IncomingMessage, response: ServerResponse, headers: Record<string, string>, body: Buffer | string, keep?: string) => {
    const { bytes, encoding } = compressed(request, Buffer.from(body), keep);
    response.writeHead(200, { ...headers, ...(encoding ? { 'content-encoding': encoding } : {}), vary: 'Accept-Encoding' }).end(bytes);
  };
  const html = (request: IncomingMessage, response: ServerResponse, body: string, cache = 'no-cache'): void =>
    send(request, response, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': cache }, body);
  const preloadFile = new URL('preload.json', publicDir);
  const preload = existsSync(preloadFile) ? (JSON.parse(readFileSync(preloadFile, 'utf8')) as string[]) : [];
  const shellConfig = { gatewayUrl: gateway, publishableKey: options.publishableKey, deviceUrl: options.deviceUrl, tenantId, preload };
  const workerToken = (worker: Staff) =>
    signToken({
      secretKey: options.secretKey,
      sub: worker.id,
      role: 'worker',
      name: worker.name,
      ...(worker.unitId ? { unitId: worker.unitId } : {}),
      ttlSeconds: options.tokenTtlSeconds ?? 3600,
    });
  const bootstrap = bootstrapper(gateway, options.publishableKey, server);

  /** POSTs come from the app's own pages only: a form or script on another site cannot sign anyone in or take a badge. */
  const sameOrigin = (request: IncomingMessage) => {
    const site = request.headers['sec-fetch-site'];
    if (site) return site === 'same-origin';
    const origin = request.headers.origin;
    return !origin || origin === `http://${request.headers.host}` || origin === `https://${request.headers.host}`;
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://worker-app').pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && (path === '/' || path === '/index.html')) {
      // The worker's page with their first screen in it; nobody signed in: the sign-in, at once.
      const worker = await workerNamed(await identify(request));
      if (!worker && demo) return void response.writeHead(303, { location: '/sign-in', 'cache-control': 'no-store' }).end();
      const first = worker ? await bootstrap(await workerToken(worker), worker) : undefined;
      html(request, response, appShell(shellConfig, first ? embedJson(first) : undefined), 'no-store');
    } else if (method === 'GET' && path === '/shell') {
      // The page without anyone's data: what the service worker keeps to open the app offline.
      html(request, response, appShell(shellConfig), 'no-cache');
    } else if (method === 'GET' && (STATIC[path] || CHUNK.test(path))) {
      const file = new URL(path.slice(1), publicDir);
      if (!existsSync(file)) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      const type = STATIC[path]?.type ?? (path.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8');
      send(
        request,
        response,
        { 'content-type': type, 'cache-control': path.startsWith('/chunks/') ? 'public, max-age=31536000, immutable' : 'no-cache' },
        readFileSync(file),
        file.href,
      );
    } else if (method === 'GET' && path === '/session.json') {
      const sub = await identify(request);
      const worker = await workerNamed(sub);
      if (!worker)
        return json(response, 401, {
          error: sub ? `${sub} is not an active worker in the staff directory` : 'not signed in',
          signIn: demo ? '/sign-in' : undefined,
        });
      json(response, 200, {
        token: await workerToken(worker),
        worker: { id: worker.id, name: worker.name, unitId: worker.unitId ?? null, skills: worker.skills },
      });
    } else if (method === 'POST' && path === '/phone-badge') {
      if (!sameOrigin(request)) return json(response, 403, { error: 'cross-site request refused' });
      const worker = await workerNamed(await identify(request));
      if (!worker) return json(response, 401, { error: 'not signed in' });
      if (!options.deviceUrl) return json(response, 404, { error: 'this worker app has no device connection configured (deviceUrl)' });
      json(response, 200, await provisionPhone(worker));
    } else if (demo && method === 'GET' && path === '/sign-in') {
      html(request, response, signInPage((await staffList()).filter((s) => s.active && s.role === 'worker')));
    } else if (demo && method === 'POST' && path === '/sign-in') {
      if (!sameOrigin(request)) return json(response, 403, { error: 'cross-site request refused' });
      const sub = new URLSearchParams(await body(request)).get('staff') ?? '';
      if (!(await workerNamed(sub))) return void response.writeHead(303, { location: '/sign-in' }).end();
      response.writeHead(303, { location: '/', 'set-cookie': demo.cookieFor(sub) }).end();
    } else if (demo && method === 'POST' && path === '/sign-out') {
      if (!sameOrigin(request)) return json(response, 403, { error: 'cross-site request refused' });
      response.writeHead(303, { location: '/sign-in', 'set-cookie': demo.clearCookie }).end();
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    }
  }

  /**
   * The worker's phone as their badge: registered on first use, and given a fresh credential each
   * time a phone asks (the app asks only when it holds none), so a lost phone's credential stops working.
   */
  async function provisionPhone(worker: Staff) {
    const id = phoneBadgeId(worker.id);
    let registered;
    try {
      await server.devices.get(id);
      registered = await server.devices.rotateCredential(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      registered = await server.devices.register({
        id,
        kind: 'badge',
        name: `Phone · ${worker.name}`.slice(0, 100),
        staffId: worker.id,
        ...(worker.unitId ? { unitId: worker.unitId } : {}),
        skills: worker.skills,
      });
    }
    return {
      deviceId: registered.device.id,
      tenantId,
      username: registered.credential.username,
      password: registered.credential.password,
      url: options.deviceUrl,
    };
  }

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 502, { error: `the gateway could not be asked: ${error instanceof Error ? error.message : String(error)}` });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, resolve);
  });
  return {
    url: `http://${host}:${(http.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve());
        // A phone's browser keeps its connections open: closing means closing those too.
        http.closeAllConnections();
      }),
  };
}

/** A small form body (the sign-in's one field). */
function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 4096) request.destroy(new Error('form too large'));
    });
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}
