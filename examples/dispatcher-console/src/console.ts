import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signToken } from '@civicloop/sdk';

export interface ConsoleOptions {
  /** Where browsers reach the CivicLoop gateway. */
  gatewayUrl: string;
  /** Stays on this server: signs the console's dispatcher token. */
  secretKey: string;
  publishableKey: string;
  port?: number;
  host?: string;
  /** Who the console acts as (a dispatcher's staff id). */
  dispatcher?: string;
  /** Where the built page is (console.js, console.css). Default: public/ beside this file in dist. */
  publicDir?: URL;
  /** Lifetime of the dispatcher tokens the page gets; it renews them before they expire. Default 3600 s. */
  tokenTtlSeconds?: number;
  /** Whether the operator is still signed in (behind the command centre's SSO); default always. */
  signedIn?: () => boolean;
}

/**
 * The dispatcher console's small server: the page, its script and styles, and a dispatcher token
 * for the page. It has no login of its own; put it behind the command centre's single sign-on.
 */
export async function startConsole(options: ConsoleOptions): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = options.gatewayUrl.replace(/\/+$/, '');
  const publicDir = options.publicDir ?? new URL('./public/', import.meta.url);
  const publicFile = (name: string) => readFileSync(new URL(name, publicDir));
  const csp = ["default-src 'none'", "script-src 'self'", `connect-src 'self' ${gateway}`, "img-src 'self' data:", "style-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"].join('; ');
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CivicLoop dispatch</title><link rel="stylesheet" href="/console.css"><script type="module" src="/console.js"></script></head>
<body><header><h1>CivicLoop dispatch 调度台</h1><span id="live" role="status" data-state="connecting">Connecting… 连接中</span><span id="clock" aria-live="off"></span></header>
<main>
<section id="kpis" aria-label="Today"></section>
<section id="board" aria-label="Open tickets by state"><h2>Open tickets</h2></section>
<section id="side"><div id="alerts" aria-live="polite"><h2>Alarms 报警</h2></div><div id="map"><h2>Fleet and tickets</h2></div><div id="chart"><h2>Reported, last 7 days</h2></div><div id="blackspots"><h2>Black spots</h2></div></section>
</main></body></html>`;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://console').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' }).end(page);
    } else if (path === '/console.js' || path === '/console.js.map') {
      response.writeHead(200, { 'content-type': path.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8' }).end(publicFile(path.slice(1)));
    } else if (path === '/console.css') {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(publicFile('console.css'));
    } else if (path === '/config.json') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ gatewayUrl: gateway, publishableKey: options.publishableKey }));
    } else if (path === '/token.json') {
      // The page asks again before its token expires; a signed-out operator gets a 401.
      if (options.signedIn && !options.signedIn()) {
        response.writeHead(401, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: 'signed out' }));
        return;
      }
      const token = await signToken({ secretKey: options.secretKey, sub: options.dispatcher ?? 'console-dispatcher', role: 'dispatcher', name: 'Dispatch console', ttlSeconds: options.tokenTtlSeconds ?? 3600 });
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ token }));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  return { url: `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
