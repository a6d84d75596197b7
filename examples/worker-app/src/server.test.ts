import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { WORKER_COOKIE } from './demo-sign-in.js';
import { startWorkerApp } from './server.js';

// The worker app's server on its own: who may sign in, what another site cannot make it do.
let gw: TestGateway;
let app: { url: string; close(): Promise<void> };

beforeAll(async () => {
  gw = await startTestGateway();
  await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).staff.create({ id: 'd-desk', name: 'Desk', role: 'dispatcher' });
  app = await startWorkerApp({
    gatewayUrl: gw.url,
    secretKey: gw.tenant.secretKey,
    publishableKey: gw.tenant.publishableKey,
    deviceUrl: 'ws://127.0.0.1:1',
    publicDir: new URL('../dist/public/', import.meta.url),
  });
});
afterAll(async () => {
  await app?.close();
  await gw?.close();
});

const signIn = (staff: string, headers: Record<string, string> = {}) =>
  fetch(new URL('/sign-in', app.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ staff }),
  });
const cookieOf = (response: Response) => response.headers.get('set-cookie')?.split(';')[0] ?? '';

describe('the worker app server', () => {
  it('signs in a worker of the directory and gives their token, with their unit', async () => {
    const signedIn = await signIn('w-1', { 'sec-fetch-site': 'same-origin' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const session = await fetch(new URL('/session.json', app.url), { headers: { cookie: cookieOf(signedIn) } });
    expect(session.status).toBe(200);
    const body = (await session.json()) as { token: string; worker: { id: string; unitId: string } };
    expect(body.worker).toMatchObject({ id: 'w-1', name: 'Worker One', unitId: 'sanitation' });
    const me = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token: body.token }).me();
    expect(me.actor).toMatchObject({ sub: 'w-1', role: 'worker', unitId: 'sanitation' });
  });

  it('refuses staff who are not workers, unknown people, forged cookies and other sites', async () => {
    expect((await signIn('d-desk', { 'sec-fetch-site': 'same-origin' })).headers.get('location')).toBe('/sign-in');
    expect((await signIn('nobody', { 'sec-fetch-site': 'same-origin' })).headers.get('set-cookie')).toBeNull();
    // A form on another site posting to the sign-in, or taking a badge credential: refused.
    expect((await signIn('w-1', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await signIn('w-1', { origin: 'https://evil.example' })).status).toBe(403);
    const signedIn = await signIn('w-1', { 'sec-fetch-site': 'same-origin' });
    const badge = await fetch(new URL('/phone-badge', app.url), { method: 'POST', headers: { cookie: cookieOf(signedIn), 'sec-fetch-site': 'cross-site' } });
    expect(badge.status).toBe(403);
    // A cookie naming someone else with a signature that is not theirs: not signed in.
    const [, signature] = cookieOf(signedIn).split('.');
    for (const cookie of [`${WORKER_COOKIE}=w-2.${signature}`, `${WORKER_COOKIE}=w-2`, `${WORKER_COOKIE}=%E0%A4%A.x`]) {
      expect((await fetch(new URL('/session.json', app.url), { headers: { cookie } })).status).toBe(401);
    }
    expect((await fetch(new URL('/session.json', app.url))).status).toBe(401);
  });

  it('serves a signed-in worker their first screen with the page, never kept, safely embedded', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const hostile = '</script><script>alert(1)</script><!-- \u2028';
    const ticket = await server.tickets.create({ category: 'sanitation.bin_overflow', description: hostile, location: { lat: 23.13, lon: 113.32 } });
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    const signedIn = await signIn('w-1', { 'sec-fetch-site': 'same-origin' });
    const page = await fetch(app.url, { headers: { cookie: cookieOf(signedIn) }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).not.toContain(gw.tenant.secretKey);
    // One script element of data; the description cannot close it.
    expect(html.match(/<script/g)).toHaveLength(2);
    const embedded = JSON.parse(/<script type="application\/json" id="bootstrap">(.*?)<\/script>/s.exec(html)![1]!) as {
      worker: { id: string };
      jobs: { id: string; description: string }[];
      tenant: { timeZone: string; names: Record<string, { en: string }> };
    };
    expect(embedded.worker.id).toBe('w-1');
    expect(embedded.jobs.find((j) => j.id === ticket.id)?.description).toBe(hostile);
    expect(embedded.tenant).toMatchObject({ timeZone: 'Asia/Shanghai' });
    expect(embedded.tenant.names['sanitation.bin_overflow']?.en).toBe('Overflowing bin');
    // Nobody signed in: straight to the sign-in.
    expect((await fetch(app.url, { redirect: 'manual' })).headers.get('location')).toBe('/sign-in');
  });

  it("serves the shell kept for offline without anyone's data, with a strict CSP, and nothing outside its files", async () => {
    const shell = await fetch(new URL('/shell', app.url));
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(shell.headers.get('content-security-policy')).toContain(`connect-src 'self' ${gw.url} ws://127.0.0.1:1`);
    const text = await shell.text();
    expect(text).not.toContain(gw.tenant.secretKey);
    expect(text).not.toContain('id="bootstrap"');
    for (const path of ['/../package.json', '/chunks/../../server.js', '/dist/public/app.js', '/server.js'])
      expect((await fetch(new URL(path, app.url))).status).toBe(404);
    const manifest = (await (await fetch(new URL('/manifest.webmanifest', app.url))).json()) as { icons: { src: string }[] };
    for (const icon of manifest.icons) expect((await fetch(new URL(icon.src, app.url))).status).toBe(200);
  });
});
