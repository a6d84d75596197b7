import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { launchChromium } from '@civicloop/test-support/browser.js';
import { startConsole } from './console.js';

// Staff sign in to the console with a real OpenID Connect provider (node-oidc-provider, with its
// development login and consent pages): each person's id, name and role come from it, the session
// is renewed with its refresh token, and a person removed at the provider is signed out.
const publicDir = new URL('../dist/public/', import.meta.url);
const people: Record<string, { name: string; civicloop_role: string }> = {
  'zhang.wei': { name: '张伟 Zhang', civicloop_role: 'supervisor' },
  'li.na': { name: '李娜 Li', civicloop_role: 'resident' },
};

let gw: TestGateway;
let browser: Browser;
let idp: Server;
let issuer: string;
let refreshes = 0;
let consoleAddress: string;
const closers: (() => Promise<void>)[] = [];

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  if (!existsSync(new URL('console.js', publicDir))) throw new Error('examples/dispatcher-console/dist is missing: run npm run build first (npm test does).');
  gw = await startTestGateway();
  browser = await launchChromium();
  const consolePort = await freePort();
  const idpPort = await freePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'civicloop-console',
        client_secret: 'console-secret-for-tests',
        redirect_uris: [`http://127.0.0.1:${consolePort}/oidc/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], profile: ['name'], civicloop: ['civicloop_role'] },
    scopes: ['openid', 'offline_access', 'profile', 'civicloop'],
    // Someone removed from the directory has no account: the provider refuses to renew their session.
    findAccount: (_ctx, id) => (people[id] ? { accountId: id, claims: () => ({ sub: id, ...people[id]! }) } : undefined),
    // Short, so that renewal happens while the test watches.
    ttl: { AccessToken: 4, IdToken: 60, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600 },
    cookies: { keys: ['test-cookie-key'] },
    pkce: { required: () => true },
  });
  provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: string } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes++;
  });
  idp = provider.listen(idpPort, '127.0.0.1') as Server;
  const server = await startConsole({
    gatewayUrl: gw.url,
    secretKey: gw.tenant.secretKey,
    publishableKey: gw.tenant.publishableKey,
    publicDir,
    port: consolePort,
    tokenTtlSeconds: 6,
    oidc: { issuer, clientId: 'civicloop-console', clientSecret: 'console-secret-for-tests', allowHttp: true },
  });
  closers.push(server.close);
  const { policy } = (await gw.services.tenants.context(gw.tenant.id))!.tenant;
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [...policy.allowedOrigins, `http://127.0.0.1:${consolePort}`] });
  closers.push(async () => void (await new Promise((resolve) => idp.close(resolve))));
  consoleAddress = server.url;
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const close of closers.reverse()) await close();
  await gw?.close();
});

const consoleUrl = () => consoleAddress;

async function signIn(login: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  closers.push(() => context.close());
  const page = await context.newPage();
  await page.goto(consoleUrl());
  // The provider's own sign-in and consent pages.
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.locator('button:has-text("Continue")').click();
  return page;
}

describe('the console signs staff in with OpenID Connect', { timeout: 90_000 }, () => {
  it('takes the person and their role from the provider, renews the session with it, and signs out whoever the provider drops', async () => {
    const page = await signIn('zhang.wei');
    await page.waitForURL(consoleUrl());
    await page.locator('body[data-ready="true"]').waitFor();
    expect(await page.locator('#operator').textContent()).toBe('张伟 Zhang · supervisor');
    // A supervisor: the verify queue is there.
    expect(await page.locator('#verify').isHidden()).toBe(false);

    // The page's token (6 s) is renewed at /token.json, and the server renews at the provider (4 s).
    const renewals: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/token.json')) renewals.push(response.status());
    });
    // The page asks for a token when it makes a request: new reports keep it busy, as a live district does.
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const busy = setInterval(() => void server.tickets.create({ ...BIN_REPORT, location: { lat: 23.13, lon: 113.32 } }).catch(() => undefined), 1500);
    try {
      await expect.poll(() => renewals.filter((s) => s === 200).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      expect(refreshes).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#live').getAttribute('data-state')).toBe('live');

      // Removed at the provider: the next renewal is refused, and the console says to sign in again.
      delete people['zhang.wei'];
      await expect.poll(() => renewals.includes(401), { timeout: 30_000 }).toBe(true);
      gw.streams.closeAll();
    } finally {
      clearInterval(busy);
    }
    await expect.poll(() => page.locator('#live').getAttribute('data-state'), { timeout: 30_000 }).toBe('signed-out');
    people['zhang.wei'] = { name: '张伟 Zhang', civicloop_role: 'supervisor' };
  });

  it('refuses a person without a console role, a forged callback, and signs out on request', async () => {
    const resident = await signIn('li.na');
    await resident.waitForURL(/\/oidc\/callback/);
    expect(await resident.locator('body').textContent()).toContain('Your account has no console role');
    // A callback this browser did not start is refused, and lets nobody in.
    const forged = await fetch(new URL('/oidc/callback?code=stolen&state=made-up', consoleUrl()), { redirect: 'manual' });
    expect(forged.status).toBe(400);
    const anonymous = await fetch(consoleUrl(), { redirect: 'manual' });
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([302, '/oidc/login']);
    expect((await fetch(new URL('/token.json', consoleUrl()))).status).toBe(401);

    const page = await signIn('zhang.wei');
    await page.locator('body[data-ready="true"]').waitFor();
    const session = (await page.context().cookies(consoleUrl())).find((c) => c.name === 'cl_console_session')!;
    const withSession = { headers: { cookie: `${session.name}=${session.value}` } };
    expect((await fetch(new URL('/token.json', consoleUrl()), withSession)).status).toBe(200);
    await page.locator('button.sign-out').click();
    // Signed out here, and sent to sign in again (the provider asks for consent once more).
    await page.waitForURL((url) => url.href.startsWith(issuer));
    expect((await fetch(new URL('/token.json', consoleUrl()), withSession)).status).toBe(401);
    // A sign-out posted from another site is refused.
    const crossSite = await fetch(new URL('/oidc/logout', consoleUrl()), { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' }, redirect: 'manual' });
    expect(crossSite.status).toBe(403);
  });
});
