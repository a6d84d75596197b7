import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CivicLoop, signToken } from '@civicloop/sdk';
import { readFirstScreen } from './first-screen.js';
import { OidcSignIn, type OidcOptions } from './oidc.js';

const SIGN_OUT_FORM = '<form method="post" action="/oidc/logout"><button type="submit" class="sign-out">Sign out 退出</button></form>';

/** How long a first screen read for a page just sent waits for the page to ask for it. */
const READ_AHEAD_MS = 30_000;
/** First screens read ahead at most at once (each holds the open tickets until asked for). */
const READ_AHEAD_MAX = 100;

/** A chunk the entry script loads: `/chunks/<name>-<hash>.js` (or its map), nothing else. */
const CHUNK = /^\/chunks\/[A-Za-z0-9_-]{1,80}\.js(\.map)?$/;

const attribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface ConsoleOperator {
  sub: string;
  role: 'dispatcher' | 'supervisor' | 'admin';
  name?: string;
}

export interface ConsoleOptions {
  /** Where browsers reach the CivicLoop gateway. */
  gatewayUrl: string;
  /** Stays on this server: signs the console's dispatcher token. */
  secretKey: string;
  publishableKey: string;
  port?: number;
  host?: string;
  /**
   * Who the console acts as: a staff id, the role the command centre gave them and a name. A
   * dispatcher dispatches, merges, rejects and records follow-ups; verifying takes a supervisor
   * (or admin), as the ticket state machine says. Default: a dispatcher, "console-dispatcher".
   */
  operator?: ConsoleOperator;
  /** Where the built page is (console.js, console.css). Default: public/ beside this file in dist. */
  publicDir?: URL;
  /** Lifetime of the dispatcher tokens the page gets; it renews them before they expire. Default 3600 s. */
  tokenTtlSeconds?: number;
  /** Whether the operator is still signed in (behind the command centre's SSO); default always. */
  signedIn?: () => boolean;
  /**
   * Sign staff in with the city's identity provider (OpenID Connect) instead of a fixed operator:
   * each person's id, name and role come from it, and their session is renewed with it. `operator`
   * and `signedIn` are then not used. See docs/console.md.
   */
  oidc?: OidcOptions;
  /**
   * Read the page's first screen (the tickets, fleet, zones, figures) on this server and send it
   * with the page, so the board draws without waiting for requests of its own. Turn it off when
   * this server cannot reach the gateway at `gatewayUrl` (the page then reads it itself).
   * Default true.
   */
  firstScreen?: boolean;
  /** Where browsers reach this console (the identity provider sends them back under it). Default: its own address. */
  publicUrl?: string;
  /**
   * The map's tiles. Without it the console draws the district outline. Tiles must be drawn in
   * the tenant's display system (policy.defaultCrs): GCJ-02 for AMap or Tencent tiles.
   */
  map?: ConsoleMapOptions;
}

export interface ConsoleMapOptions {
  /** A MapLibre style document (vector or raster) the browser loads. */
  styleUrl?: string;
  /** Or raster tiles by template, `https://tiles.example/{z}/{x}/{y}.png`: the console makes the style. */
  tileUrl?: string;
  /** Credit shown on the map for `tileUrl` tiles (a style document carries its own). */
  attribution?: string;
  /** Highest zoom `tileUrl` serves. Default 19. */
  maxZoom?: number;
  /**
   * Origins the style's tiles, glyphs and sprites come from, when not the style's own (the page's
   * Content-Security-Policy allows only these). The origins of `styleUrl` and `tileUrl` are always allowed.
   */
  origins?: string[];
}

/** The MapLibre style for raster tiles given by template. */
export function rasterStyle(map: ConsoleMapOptions & { tileUrl: string }): object {
  return {
    version: 8,
    sources: {
      tiles: { type: 'raster', tiles: [map.tileUrl], tileSize: 256, maxzoom: map.maxZoom ?? 19, ...(map.attribution ? { attribution: map.attribution } : {}) },
    },
    layers: [{ id: 'tiles', type: 'raster', source: 'tiles' }],
  };
}

/** The origins the page may fetch map parts from; a malformed URL is refused by name. */
function mapOrigins(map: ConsoleMapOptions | undefined): string[] {
  if (!map) return [];
  if (map.styleUrl && map.tileUrl) throw new Error('dispatcher-console: set map.styleUrl or map.tileUrl, not both');
  if (!map.styleUrl && !map.tileUrl) throw new Error('dispatcher-console: map needs styleUrl or tileUrl');
  const origin = (name: string, value: string) => {
    try {
      const url = new URL(value.replace(/\{[a-z]\}/g, '0'));
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
      return url.origin;
    } catch {
      throw new Error(`dispatcher-console: ${name} is not an http(s) URL: ${value}`);
    }
  };
  return [
    ...new Set([
      ...(map.styleUrl ? [origin('map.styleUrl', map.styleUrl)] : []),
      ...(map.tileUrl ? [origin('map.tileUrl', map.tileUrl)] : []),
      ...(map.origins ?? []).map((o, i) => origin(`map.origins[${i}]`, o)),
    ]),
  ];
}

/**
 * The command centre console's small server: the page, its script and styles, and a token for the
 * page. Staff sign in with the city's identity provider when `oidc` is set; otherwise it acts as
 * one fixed operator, and belongs behind the command centre's single sign-on.
 */
// Long: the example's server, read top to bottom: its pages, its routes and the SDK calls behind them in one place.
export async function startConsole(options: ConsoleOptions): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = options.gatewayUrl.replace(/\/+$/, '');
  const publicDir = options.publicDir ?? new URL('./public/', import.meta.url);
  const publicFile = (name: string) => readFileSync(new URL(name, publicDir));
  const tileOrigins = mapOrigins(options.map).join(' ');
  // MapLibre's worker comes from this console (worker-src 'self'); tiles, glyphs and sprites from the map's origins.
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    `connect-src 'self' ${gateway} ${tileOrigins}`.trimEnd(),
    `img-src 'self' data: blob: https: ${gateway} ${tileOrigins}`.trimEnd(),
    "style-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const mapStyle = options.map?.styleUrl ?? (options.map?.tileUrl ? '/map-style.json' : undefined);
  /**
   * The page's first screen (who is signed in, the tenant's lists, the open tickets, the fleet,
   * zones and side panels), read with the operator's token. The page names it as a preload, so
   * it is read while the page's script loads and starts, on the same origin (no CORS preflight),
   * and the board draws without a gateway request of its own. Undefined (the page then reads it
   * itself) when the gateway does not answer in time.
   */
  const readFirstScreenFor = async (token: string): Promise<string | undefined> => {
    const client = new CivicLoop({ baseUrl: gateway, apiKey: options.publishableKey, token, maxRetries: 0, timeoutMs: 3000 });
    try {
      return JSON.stringify(await readFirstScreen(client));
    } catch {
      return undefined;
    }
  };
  /**
   * First screens being read for pages just sent, by the id their preload link carries: the read
   * starts with the page, not when the browser has parsed enough of it to ask. Each is taken
   * once by the same operator, or dropped after READ_AHEAD_MS; at most READ_AHEAD_MAX at a time
   * (beyond that the browser's request reads it).
   */
  const readAhead = new Map<string, { sub: string; body: Promise<string | undefined>; timer: NodeJS.Timeout }>();
  const startReadAhead = (operator: ConsoleOperator, token: string): string | undefined => {
    if (options.firstScreen === false || readAhead.size >= READ_AHEAD_MAX) return undefined;
    const id = randomUUID();
    const timer = setTimeout(() => readAhead.delete(id), READ_AHEAD_MS);
    timer.unref();
    readAhead.set(id, { sub: operator.sub, body: readFirstScreenFor(token), timer });
    return id;
  };
  const takeReadAhead = (id: string | null, operator: ConsoleOperator): Promise<string | undefined> | undefined => {
    const entry = id ? readAhead.get(id) : undefined;
    if (!entry || entry.sub !== operator.sub) return undefined;
    readAhead.delete(id!);
    clearTimeout(entry.timer);
    return entry.body;
  };
  // The chunks console.js imports before it runs, asked for beside it (written by build-page.mjs).
  const preloadFile = new URL('preload.json', publicDir);
  const chunks = existsSync(preloadFile) ? (JSON.parse(readFileSync(preloadFile, 'utf8')) as string[]) : [];
  const modulePreloads = chunks.map((chunk) => `<link rel="modulepreload" href="${attribute(chunk)}">`).join('');
  const firstScreenPreload = (readId: string | undefined) =>
    options.firstScreen === false ? '' : `<link rel="preload" href="/first-screen.json${readId ? `?read=${readId}` : ''}" as="fetch" crossorigin>`;
  const page = (token: string | undefined, signOut: boolean, readId: string | undefined) => `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CivicLoop command centre 指挥中心</title><link rel="icon" href="data:,">${firstScreenPreload(readId)}<link rel="stylesheet" href="/console.css">
${mapStyle ? '<link rel="stylesheet" href="/maplibre-gl.css">' : ''}<script type="module" src="/console.js"></script>${modulePreloads}</head>
<body data-gateway-url="${attribute(gateway)}" data-publishable-key="${attribute(options.publishableKey)}"
${mapStyle ? ` data-map-style="${attribute(mapStyle)}"` : ''}${token ? ` data-token="${attribute(token)}"` : ''}>
<header><h1>CivicLoop command centre 指挥中心</h1><span id="operator"></span>${signOut ? SIGN_OUT_FORM : ''}
<span id="live" role="status" data-state="connecting">Connecting… 连接中</span><span id="clock" aria-live="off"></span></header>
<main>
<section id="kpis" aria-label="Today 今日"></section>
<section id="verify" aria-labelledby="verify-title" hidden></section>
<section id="board" aria-labelledby="board-title"><h2 id="board-title">Open tickets 在办案件 <span id="shown"></span></h2>
<form id="filters" role="search" aria-label="Find and filter 查找筛选"></form><div id="columns"></div></section>
<aside id="side" aria-label="Alarms, follow-ups, map and figures">
<section id="alerts" aria-live="polite"><h2>Alarms 报警</h2></section>
<section id="followups"><h2>Follow-ups to call 待回访</h2></section>
<section id="map"><h2>Fleet and tickets 车辆人员与案件</h2></section>
<section id="chart"><h2>Reported per day 近7日上报</h2></section>
<section id="blackspots"><h2>Black spots 黑点</h2></section></aside>
<section id="directory" aria-labelledby="directory-title" hidden></section>
<section id="devices" aria-labelledby="devices-title" hidden></section>
<section id="provisioning" aria-labelledby="provisioning-title" hidden></section>
<section id="zones-admin" aria-labelledby="zones-admin-title" hidden></section>
</main></body></html>`;

  const fixed = options.operator ?? { sub: 'console-dispatcher', role: 'dispatcher', name: 'Dispatch console' };
  let sso: OidcSignIn | undefined;
  /** Who is at this browser: the identity provider's session, else the configured operator while signed in. */
  const operatorOf = async (request: IncomingMessage): Promise<ConsoleOperator | undefined> => {
    if (sso) return sso.operatorOf(request);
    return !options.signedIn || options.signedIn() ? fixed : undefined;
  };
  const operatorToken = (operator: ConsoleOperator) =>
    signToken({
      secretKey: options.secretKey,
      sub: operator.sub,
      role: operator.role,
      ...(operator.name ? { name: operator.name } : {}),
      ttlSeconds: options.tokenTtlSeconds ?? 3600,
    });
  /** POSTs from this console's own pages only. */
  const sameOrigin = (request: IncomingMessage) =>
    request.headers['sec-fetch-site']
      ? request.headers['sec-fetch-site'] === 'same-origin'
      : !request.headers.origin || new URL(request.headers.origin).host === request.headers.host;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://console').pathname;
    // Until the identity provider has been read nobody is let in, least of all as the fixed operator.
    if (options.oidc && !sso) return void response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('starting');
    if (sso && path === '/oidc/login') return sso.login(response);
    if (sso && path === '/oidc/callback') return sso.callback(request, response);
    if (sso && path === '/oidc/logout' && request.method === 'POST') {
      if (!sameOrigin(request)) return void response.writeHead(403, { 'content-type': 'text/plain' }).end('cross-site request refused');
      return sso.signOut(request, response);
    }
    if (path === '/') {
      const operator = await operatorOf(request);
      // With single sign-on, nobody signed in goes to the identity provider first.
      if (sso && !operator) return void response.writeHead(302, { location: '/oidc/login', 'cache-control': 'no-store' }).end();
      const token = operator ? await operatorToken(operator) : undefined;
      const readId = operator && token ? startReadAhead(operator, token) : undefined;
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' })
        .end(page(token, !!sso, readId));
    } else if (path === '/console.js' || path === '/console.js.map' || CHUNK.test(path)) {
      // Built files only: the entry and the chunks esbuild names by their content hash.
      const file = new URL(path.slice(1), publicDir);
      if (!existsSync(file)) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      response
        .writeHead(200, {
          'content-type': path.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8',
          'cache-control': path.startsWith('/chunks/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        })
        .end(readFileSync(file));
    } else if (path === '/console.css' || path === '/maplibre-gl.css') {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(publicFile(path.slice(1)));
    } else if (path === '/maplibre-gl-worker.mjs') {
      // MapLibre's worker, same origin as the page so the CSP needs no blob: workers.
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }).end(publicFile('maplibre-gl-worker.mjs'));
    } else if (path === '/map-style.json' && options.map?.tileUrl) {
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
        .end(JSON.stringify(rasterStyle({ ...options.map, tileUrl: options.map.tileUrl })));
    } else if (path === '/first-screen.json' && options.firstScreen !== false) {
      // 204 when it cannot be read now: the page then reads it from the gateway itself.
      const operator = await operatorOf(request);
      if (!operator)
        return void response.writeHead(401, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: 'signed out' }));
      const body = await (takeReadAhead(new URL(request.url ?? '/', 'http://console').searchParams.get('read'), operator) ??
        readFirstScreenFor(await operatorToken(operator)));
      if (body === undefined) return void response.writeHead(204, { 'cache-control': 'no-store' }).end();
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    } else if (path === '/token.json') {
      // The page asks again before its token expires; a signed-out operator gets a 401.
      const operator = await operatorOf(request);
      if (!operator) {
        response.writeHead(401, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error: 'signed out' }));
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ token: await operatorToken(operator) }));
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
  const url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}/`;
  if (options.oidc) {
    try {
      sso = await OidcSignIn.discover(options.oidc, options.publicUrl ?? url);
    } catch (error) {
      server.close();
      throw new Error(
        `dispatcher-console: the identity provider ${options.oidc.issuer} could not be ` +
          `read (oidc.issuer): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        for (const entry of readAhead.values()) clearTimeout(entry.timer);
        readAhead.clear();
        server.close(() => resolve());
      }),
  };
}
