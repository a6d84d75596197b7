import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signToken } from '@civicloop/sdk';
import { exchangeLoginCode, type WechatLogin } from './wechat-session.js';

export interface PortalOptions {
  /** Where browsers reach the CivicLoop gateway (the widget script and API). */
  gatewayUrl: string;
  /**
   * The portal's partner secret key (POST /v1/partners, made by the district): stays on this
   * server, signs its residents' tokens, and can do nothing for anyone else's residents.
   */
  secretKey: string;
  /** The partner's publishable key: in the page, for the widget. */
  publishableKey: string;
  port?: number;
  host?: string;
  /** The estate's location: reports without a device fix are placed here. */
  estate?: { lat: number; lon: number };
  /** Places on the estate that get a printed QR entry code (the sheet at /codes). */
  places?: { name: string; lat: number; lon: number }[];
  /** The estate's WeChat mini-program: its residents sign in at POST /wechat/session. Off when absent. */
  wechat?: WechatLogin;
}

export interface RunningPortal {
  url: string;
  close(): Promise<void>;
}

const SESSION_COOKIE = 'sg_session';
const RESIDENT_TOKEN_TTL_SECONDS = 600;
const css = readFileSync(new URL('../src/public/portal.css', import.meta.url));

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The place a scanned entry code put in the address, kept through signing in. */
const PLACE_PARAMS = ['cl-place', 'cl-place-name'] as const;
const keptPlace = (from: URLSearchParams) =>
  new URLSearchParams(PLACE_PARAMS.flatMap((name) => (from.get(name) ? [[name, from.get(name)!.slice(0, 300)]] : [])));

/**
 * Sunny Gardens (阳光花园), a fictional property-management portal. Residents sign in with
 * their flat number; the page embeds the CivicLoop widget with one script tag, and the server
 * signs each resident's CivicLoop token, so the secret key never reaches a browser. It is a
 * partner of the district's tenant (docs/partners.md): its keys reach its own residents only.
 */
// Long: the example's server, read top to bottom: its pages, its routes and the SDK calls behind them in one place.
export async function startPortal(options: PortalOptions): Promise<RunningPortal> {
  const gateway = options.gatewayUrl.replace(/\/+$/, '');
  const estate = options.estate ?? { lat: 23.1335, lon: 113.3242 };
  const places = options.places ?? [
    { name: '阳光花园正门 Sunny Gardens main gate', lat: estate.lat - 0.0006, lon: estate.lon },
    { name: '1 栋大堂 Building 1 lobby', lat: estate.lat + 0.0002, lon: estate.lon - 0.0004 },
    { name: '2 栋大堂 Building 2 lobby', lat: estate.lat + 0.0002, lon: estate.lon },
    { name: '3 栋大堂 Building 3 lobby', lat: estate.lat + 0.0002, lon: estate.lon + 0.0004 },
    { name: '垃圾房 Bin store', lat: estate.lat - 0.0003, lon: estate.lon + 0.0006 },
  ];
  // Where residents reach this page: set once listening (the codes open it).
  let publicUrl = '';
  // Session cookies are signed with a key that lives only as long as this process.
  const cookieKey = randomBytes(32);
  const sign = (value: string) => `${value}.${createHmac('sha256', cookieKey).update(value).digest('base64url')}`;
  const verify = (cookie: string | undefined) => {
    const raw = cookie
      ?.split(/;\s*/)
      .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
      ?.slice(SESSION_COOKIE.length + 1);
    const at = raw?.lastIndexOf('.') ?? -1;
    if (!raw || at < 0) return undefined;
    const value = decodeURIComponent(raw.slice(0, at));
    const expected = Buffer.from(sign(value).slice(value.length + 1));
    const given = Buffer.from(raw.slice(at + 1));
    return expected.length === given.length && timingSafeEqual(expected, given) ? value : undefined;
  };

  const csp = [
    "default-src 'none'",
    `script-src 'self' ${gateway}`,
    `connect-src 'self' ${gateway}`,
    `img-src 'self' ${gateway} blob:`,
    "style-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  function page(flat: string | undefined, place: URLSearchParams): string {
    const widget = flat
      ? `<script src="${gateway}/widget/loader.js" data-publishable-key="${escapeHtml(options.publishableKey)}" ` +
        `data-token-url="/civicloop/token" data-default-location="${estate.lat},${estate.lon}" async></script>`
      : '<p>请先登录，再报事。Sign in to report a problem.</p>';
    const account = flat
      ? `<form class="login" method="post" action="/logout"><span>${escapeHtml(flat)}</span><button>退出 Sign out</button></form>`
      : `<form class="login" method="post" action="/login"><label for="flat">房号 ` +
        `Flat</label><input id="flat" name="flat" required pattern="[0-9A-Za-z-]{1,12}" ` +
        `placeholder="3-2-1201">${[...place].map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`).join('')}<button>登录 ` +
        `Sign in</button></form>`;
    return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>阳光花园业主服务 Sunny Gardens residents</title><link rel="stylesheet" href="/portal.css"></head>
<body>
<header><h1>阳光花园 · 业主服务 Sunny Gardens</h1><a href="/codes">报事二维码 Report codes</a>${account}</header>
<main>
<section><h2>物业公告 Notices</h2><p>本周六上午 9:00-11:00 二期停水检修。Water off in phase 2 on Saturday 9-11.</p>
<p>发现垃圾满溢、路灯不亮、井盖缺失？在右侧随手拍，街道会派人处理，并告诉您进度。</p></section>
<section><h2>随手拍 Report a problem</h2>${widget}</section>
</main>
</body></html>`;
  }

  /**
   * A printable sheet of QR entry codes, one per place on the estate: each opens this page with
   * the place preset. The gateway draws them (GET /v1/entry-codes/report.svg, with the secret key,
   * which stays on this server); they are put in the page as SVG, so they print sharp.
   */
  async function codeSheet(): Promise<string> {
    const figures = await Promise.all(
      places.map(async (place) => {
        const query = new URLSearchParams({ page: publicUrl, lat: String(place.lat), lon: String(place.lon), name: place.name });
        const answer = await fetch(`${gateway}/v1/entry-codes/report.svg?${query}`, { headers: { authorization: `Bearer ${options.secretKey}` } });
        if (!answer.ok)
          return `<figure class="code"><p>无法生成 Could not make this code (${answer.status})</p><figcaption>${escapeHtml(place.name)}</figcaption></figure>`;
        return `<figure class="code">${await answer.text()}<figcaption>${escapeHtml(place.name)}<br>扫码报事 Scan to report a problem here</figcaption></figure>`;
      }),
    );
    return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>报事二维码 Report codes · Sunny Gardens</title><link rel="stylesheet" href="/portal.css"></head>
<body>
<header><h1>报事二维码 Report codes</h1><a href="/">返回 Back</a></header>
<main class="codes">${figures.join('')}</main>
</body></html>`;
  }

  /** A small request body (a sign-in form, a login code); anything past 4 KB is not read. */
  async function readBody(request: IncomingMessage): Promise<string> {
    let body = '';
    for await (const chunk of request) {
      body += chunk;
      if (body.length > 4096) break;
    }
    return body;
  }
  const readForm = async (request: IncomingMessage) => new URLSearchParams(await readBody(request));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://portal');
    const flat = verify(request.headers.cookie);
    if (request.method === 'GET' && url.pathname === '/codes') {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' })
        .end(await codeSheet());
    } else if (request.method === 'GET' && url.pathname === '/') {
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' })
        .end(page(flat, keptPlace(url.searchParams)));
    } else if (request.method === 'GET' && url.pathname === '/portal.css') {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(css);
    } else if (request.method === 'POST' && url.pathname === '/login') {
      const form = await readForm(request);
      const given = form.get('flat') ?? '';
      if (!/^[0-9A-Za-z-]{1,12}$/.test(given)) {
        response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Flat number: letters, digits and dashes, at most 12.');
        return;
      }
      // Back to the page, with the place of the code the resident scanned, if any (a path on this
      // site only: nothing here can send the browser elsewhere).
      const place = keptPlace(form).toString();
      response
        .writeHead(303, {
          location: place ? `/?${place}` : '/',
          'set-cookie': `${SESSION_COOKIE}=${encodeURIComponent(given)}.${sign(given).slice(given.length + 1)}; HttpOnly; SameSite=Lax; Path=/`,
        })
        .end();
    } else if (request.method === 'POST' && url.pathname === '/logout') {
      response.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=; Max-Age=0; Path=/` }).end();
    } else if (request.method === 'POST' && url.pathname === '/wechat/session') {
      // The mini-program's sign-in (examples/wechat-miniprogram): a wx.login code for a resident token.
      if (!options.wechat) {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'this portal has no mini-program (set WECHAT_APPID and WECHAT_APPSECRET)' }));
        return;
      }
      let code: unknown;
      try {
        code = (JSON.parse(await readBody(request)) as { code?: unknown } | null)?.code;
      } catch {
        code = undefined;
      }
      const answer = await exchangeLoginCode(options.wechat, options.secretKey, code);
      response.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer.body));
    } else if (request.method === 'GET' && url.pathname === '/civicloop/token') {
      // The widget's token-url: the signed-in resident's identity, signed with the partner secret.
      // The flat number is the portal's own id for them; the gateway keeps it in this partner's
      // namespace (partner:<id>:3-2-1201), so another platform's flat 3-2-1201 is someone else.
      if (!flat) {
        response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'sign in first' }));
        return;
      }
      const token = await signToken({ secretKey: options.secretKey, sub: flat, role: 'citizen', name: `Flat ${flat}`, ttlSeconds: RESIDENT_TOKEN_TTL_SECONDS });
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ token }));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  publicUrl = `http://${options.host ?? '127.0.0.1'}:${port}/`;
  return {
    url: publicUrl,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
