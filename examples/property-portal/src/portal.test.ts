import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CivicLoop, type PartnerKeys } from '@civicloop/sdk';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { cspComplaints, launchChromium } from '@civicloop/test-support/browser.js';
import { reportInPortal } from '@civicloop/test-support/portal.js';
import { chooseCategory } from '@civicloop/test-support/widget.js';
import jsQR from 'jsqr';
import sharp from 'sharp';
import { startPortal, type RunningPortal } from './portal.js';

let gw: TestGateway;
let portal: RunningPortal;
let browser: Browser;
let partner: PartnerKeys;

beforeAll(async () => {
  gw = await startTestGateway();
  // The portal is a partner of the district: the district makes it one and hands it its keys.
  partner = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).partners.create({ name: 'Sunny Gardens Property' });
  portal = await startPortal({ gatewayUrl: gw.url, secretKey: partner.secretKey, publishableKey: partner.publishableKey });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(portal.url).origin] });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await gw?.close();
});

describe('examples/property-portal', { timeout: 60_000 }, () => {
  it('signs tokens only for a signed-in resident, and the token is accepted by the gateway', async () => {
    expect((await fetch(`${portal.url}civicloop/token`)).status).toBe(401);
    const login = await fetch(`${portal.url}login`, { method: 'POST', body: new URLSearchParams({ flat: '3-2-1201' }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const forged = cookie.replace('3-2-1201', '9-9-9999');
    expect((await fetch(`${portal.url}civicloop/token`, { headers: { cookie: forged } })).status).toBe(401);
    const { token } = (await (await fetch(`${portal.url}civicloop/token`, { headers: { cookie } })).json()) as { token: string };
    const me = await new CivicLoop({ baseUrl: gw.url, apiKey: partner.publishableKey, token }).me();
    expect(me.actor).toMatchObject({ sub: `partner:${partner.partner.id}:3-2-1201`, role: 'citizen' });
    expect(me.partner?.id).toBe(partner.partner.id);
    // The portal's token is good for its own residents only: with the district's page key it is refused.
    await expect(new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.publishableKey, token }).me()).rejects.toMatchObject({ code: 'CL_ERR_TOKEN_INVALID' });
  });

  it('embeds the widget with one script tag under its strict CSP header: a signed-in resident reports a problem', async () => {
    const context = await browser.newContext({ permissions: ['geolocation'], geolocation: { latitude: 23.134, longitude: 113.325, accuracy: 15 } });
    const page = await context.newPage();
    const cspErrors = cspComplaints(page);
    const response = await page.goto(portal.url);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    const number = await reportInPortal(page, { flat: '3-2-1201', category: 'municipal.street_light', description: '3 栋门口路灯不亮' });
    const ticket = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).tickets.getByNumber(number);
    expect(ticket).toMatchObject({
      category: 'municipal.street_light',
      reporter: { sub: `partner:${partner.partner.id}:3-2-1201`, name: 'Flat 3-2-1201' },
      channel: 'widget',
      partnerId: partner.partner.id,
    });
    // The portal's server reads it with its partner key, as its estate office would.
    expect((await new CivicLoop({ baseUrl: gw.url, apiKey: partner.secretKey }).tickets.getByNumber(number)).id).toBe(ticket.id);
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it('prints a sheet of report codes; one scanned opens the page, through sign-in, with its place preset', async () => {
    const sheet = await fetch(`${portal.url}codes`);
    expect(sheet.status).toBe(200);
    const html = await sheet.text();
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(5);
    expect(html).toContain('3 栋大堂 Building 3 lobby');
    // What a phone's camera reads from the fourth code (Building 3).
    const { data, info } = await sharp(Buffer.from(svgs[3]!), { density: 300 })
      .flatten({ background: '#fff' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const scanned = jsQR(new Uint8ClampedArray(data), info.width, info.height)!.data;
    expect(new URL(scanned).origin).toBe(new URL(portal.url).origin);
    expect(new URL(scanned).searchParams.get('cl-place-name')).toBe('3 栋大堂 Building 3 lobby');

    // No geolocation permission: the place comes from the code alone.
    const context = await browser.newContext();
    const page = await context.newPage();
    const cspErrors = cspComplaints(page);
    await page.goto(scanned);
    await page.getByLabel('房号 Flat').fill('3-1-0801');
    await page.getByRole('button', { name: '登录 Sign in' }).click();
    const widget = page.locator('civicloop-report');
    await expect.poll(() => widget.getByText('地点来自您扫描的二维码：3 栋大堂 Building 3 lobby').count()).toBe(1);
    await chooseCategory(page, 'municipal.street_light');
    await page.getByLabel('问题描述').fill('大堂灯不亮');
    await page.getByRole('button', { name: '提交' }).click();
    const outcome = widget.locator('[part="outcome"]');
    await expect.poll(() => outcome.textContent()).toMatch(/已上报，编号/);
    const number = /([A-Z0-9]+-\d{8}-\d{4})/.exec((await outcome.textContent()) ?? '')![1]!;
    const ticket = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).tickets.getByNumber(number);
    expect(ticket.location).toMatchObject({ lat: 23.1337, lon: 113.3246, address: '3 栋大堂 Building 3 lobby' });
    expect(cspErrors).toEqual([]);
    await context.close();
  });
});
