import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsQR from 'jsqr';
import { JSDOM } from 'jsdom';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartnerKeys, TenantKeys, Ticket } from '@civicloop/model';
import { api } from '@civicloop/test-support/gateway-harness.js';
import { CrashableGateway } from '@civicloop/test-support/gateway-process.js';
import { wxRuntime } from '@civicloop/test-support/wx-runtime.js';
import { startPortal, type RunningPortal } from '../../property-portal/src/portal.js';

/**
 * The example mini-program's components, run by WeChat's own component test tool
 * (miniprogram-simulate: the official WXML compiler, exparser components in a DOM) against a real
 * gateway in its own process and the property portal as the partner's server. wx.request and
 * wx.uploadFile are WeChat's documented behaviour over real HTTP (test-support/wx-runtime.ts);
 * wx.login, wx.chooseMedia and wx.getLocation answer as a phone would. The one thing that cannot
 * run here, WeChat's code2Session API, is pinned with msw to its documented request and answers.
 */
const root = fileURLToPath(new URL('../miniprogram/', import.meta.url));
const requireHere = createRequire(import.meta.url);
const APP = { appId: 'wx8a1b2c3d4e5f6a7b', appSecret: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6' };
const OPENIDS: Record<string, string> = { 'code-resident-1': 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M', 'code-resident-2': 'o6_bmjrPTlm6_2sgVt7hMZOPfQ9X' };

let gateway: CrashableGateway;
let tenant: TenantKeys;
let partner: PartnerKeys;
let portal: RunningPortal;
let dir: string;
let photoPath: string;
const code2Session: URLSearchParams[] = [];
let nextLoginCode = 'code-resident-1';
const phone = { latitude: 23.13095, longitude: 113.32962, accuracy: 18 };
const runtime = wxRuntime();

// WeChat's code2Session as documented (auth.code2Session): errors come with HTTP 200 and an
// errcode; the body is JSON but not labelled as such.
const wechatApi = setupServer(
  http.get('https://api.weixin.qq.com/sns/jscode2session', ({ request }) => {
    const query = new URL(request.url).searchParams;
    code2Session.push(query);
    const answer = (body: object) => new HttpResponse(JSON.stringify(body), { headers: { 'content-type': 'text/plain' } });
    if (query.get('appid') !== APP.appId || query.get('secret') !== APP.appSecret || query.get('grant_type') !== 'authorization_code')
      return answer({ errcode: 40013, errmsg: 'invalid appid' });
    const code = query.get('js_code')!;
    if (code === 'code-busy') return answer({ errcode: -1, errmsg: 'system error' });
    const openid = OPENIDS[code];
    if (!openid) return answer({ errcode: 40029, errmsg: 'invalid code, rid: 6566a1b2-2c3d4e5f-1a2b3c4d' });
    return answer({ session_key: 'tiihtNczf5v6AKRyjwEUhQ==', openid });
  }),
);

type Simulate = { load(path: string, options?: object): string; render(id: string, properties?: object): any };
let simulate: Simulate;
let session: { configure(settings: object): void };

beforeAll(async () => {
  // The mini-program's copy of the SDK, as its build makes it.
  execFileSync(process.execPath, [fileURLToPath(new URL('../build.mjs', import.meta.url))], { stdio: 'inherit' });
  gateway = await CrashableGateway.start();
  tenant = (await api(gateway.url, 'POST', '/v1/tenants', { auth: 'crash-operator', body: { code: 'WXMP', name: 'Tianhe street office' } })).body;
  partner = (await api(gateway.url, 'POST', '/v1/partners', { auth: tenant.secretKey, body: { name: 'Sunny Gardens Property', defaultCrs: 'gcj02' } })).body;
  wechatApi.listen({ onUnhandledRequest: 'bypass' });
  portal = await startPortal({ gatewayUrl: gateway.url, secretKey: partner.secretKey, publishableKey: partner.publishableKey, wechat: APP });
  dir = mkdtempSync(path.join(tmpdir(), 'civicloop-mp-'));
  photoPath = path.join(dir, 'wxfile-tmp-photo.jpg');
  writeFileSync(
    photoPath,
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#5a7' } })
      .jpeg()
      .toBuffer(),
  );

  // A DOM for the components, and wx as a phone has it, before the tool injects its own stand-ins.
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>');
  Object.assign(globalThis, { window: dom.window, document: dom.window.document, CustomEvent: dom.window.CustomEvent, Event: dom.window.Event });
  (globalThis as Record<string, unknown>).wx = {
    ...runtime.wx,
    login: ({ success }: { success: (r: object) => void }) => setTimeout(() => success({ code: nextLoginCode, errMsg: 'login:ok' }), 0),
    chooseMedia: ({ success }: { success: (r: object) => void }) =>
      setTimeout(() => success({ type: 'image', tempFiles: [{ tempFilePath: photoPath, size: 1000, fileType: 'image' }], errMsg: 'chooseMedia:ok' }), 0),
    getLocation: (options: { type?: string; success: (r: object) => void; fail: (e: object) => void }) =>
      setTimeout(
        () =>
          options.type === 'gcj02'
            ? options.success({ ...phone, speed: -1, altitude: 0, errMsg: 'getLocation:ok' })
            : options.fail({ errMsg: 'getLocation:fail the test phone answers gcj02 only' }),
        0,
      ),
  };
  simulate = requireHere('miniprogram-simulate');
  session = requireHere(path.join(root, 'lib/session.js'));
  session.configure({ gatewayUrl: gateway.url, publishableKey: partner.publishableKey, partnerServerUrl: portal.url.replace(/\/$/, '') });
}, 60_000);

afterAll(async () => {
  wechatApi.close();
  await portal?.close();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function render(component: string, properties?: object) {
  // rootPath: the mini-program's root, as in DevTools (the compiler names templates by their path under it).
  const comp = simulate.render(simulate.load(path.join(root, 'components', component, 'index'), { rootPath: root }), properties);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

const tap = (comp: any, selector: string) => comp.querySelector(selector).dispatchEvent('tap');
const change = (comp: any, selector: string, value: unknown, event = 'change') => comp.querySelector(selector).dispatchEvent(event, { detail: { value } });
const asTenant = (number: string) => api(gateway.url, 'GET', `/v1/tickets/by-number/${number}`, { auth: tenant.secretKey }).then((r) => r.body as Ticket);

describe('examples/wechat-miniprogram', { timeout: 60_000 }, () => {
  it('a resident signs in through the partner, takes a photo, is placed in GCJ-02 and reports', async () => {
    const report = render('civicloop-report');
    await expect.poll(() => report.data.categoryNames.length).toBeGreaterThan(10);
    const index = report.data.categories.findIndex((c: { code: string }) => c.code === 'sanitation.bin_overflow');
    change(report, '.category', index);
    change(report, '.description', '小区门口垃圾桶满了 🗑️', 'input');
    tap(report, '.take-photo');
    await expect.poll(() => report.data.photo?.ref ?? '').toMatch(/^media:/);
    tap(report, '.locate');
    await expect.poll(() => report.data.location?.crs).toBe('gcj02');
    tap(report, '.submit');
    await expect.poll(() => report.data.done?.number ?? report.data.error).toMatch(/^WXMP-/);
    const number = report.data.done.number as string;
    expect(report.dom.textContent).toContain(number);

    const ticket = await asTenant(number);
    expect(ticket).toMatchObject({ category: 'sanitation.bin_overflow', description: '小区门口垃圾桶满了 🗑️', channel: 'app', partnerId: partner.partner.id });
    expect(ticket.reporter.sub).toBe(`partner:${partner.partner.id}:wx:${OPENIDS['code-resident-1']}`);
    // Kept as the phone gave it, and converted: GCJ-02 in Guangzhou is some hundreds of metres off WGS-84.
    expect(ticket.reportedLocation).toMatchObject({ lat: phone.latitude, lon: phone.longitude, crs: 'gcj02' });
    expect(Math.abs(ticket.location.lon - phone.longitude)).toBeGreaterThan(0.003);
    expect(ticket.photos).toHaveLength(1);
    // One sign-in for every call: the token is kept until it is near its end.
    expect(code2Session).toHaveLength(1);
    expect(code2Session[0]!.get('js_code')).toBe('code-resident-1');
    const apis = runtime.calls.map((c) => `${c.api} ${c.method} ${new URL(c.url).pathname}`);
    expect(apis).toEqual(expect.arrayContaining(['request POST /wechat/session', 'uploadFile POST /v1/media', 'request POST /v1/tickets']));
  });

  it("lists the resident's reports, and another resident's list is their own", async () => {
    const mine = render('civicloop-my-reports');
    await expect.poll(() => mine.data.items.length).toBe(1);
    expect(mine.data.items[0]).toMatchObject({ category: '垃圾桶满溢', open: true });
    expect(mine.dom.textContent).toContain(mine.data.items[0].number);
    expect(mine.dom.textContent).toContain(mine.data.items[0].statusLabel);

    nextLoginCode = 'code-resident-2';
    session.configure({ gatewayUrl: gateway.url, publishableKey: partner.publishableKey, partnerServerUrl: portal.url.replace(/\/$/, '') });
    const theirs = render('civicloop-my-reports');
    await expect.poll(() => theirs.data.empty).toBe(true);
    expect(theirs.dom.textContent).toContain('还没有报事');
  });

  it('a scanned entry code opens the report at its place: no location asked', async () => {
    await api(gateway.url, 'PATCH', '/v1/tenant/policy', { auth: tenant.secretKey, body: { allowedOrigins: ['https://portal.sunny-gardens.example'] } });
    const query = new URLSearchParams({
      page: 'https://portal.sunny-gardens.example/mp/report',
      lat: '23.13351',
      lon: '113.32419',
      crs: 'gcj02',
      name: '3 栋大堂 Building 3 lobby',
      size: '400',
    });
    const png = await fetch(`${gateway.url}/v1/entry-codes/report.png?${query}`, { headers: { authorization: `Bearer ${partner.secretKey}` } });
    expect(png.status).toBe(200);
    const { data, info } = await sharp(Buffer.from(await png.arrayBuffer()))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const scanned = jsQR(new Uint8ClampedArray(data), info.width, info.height)!.data;
    // WeChat opens the page registered for that address with it in options.q.
    const { placeFrom } = requireHere(path.join(root, 'lib/place.js')) as {
      placeFrom(options: object): { lat: number; lon: number; crs: string; name: string } | null;
    };
    const place = placeFrom({ q: encodeURIComponent(scanned) });
    expect(place).toEqual({ lat: 23.13351, lon: 113.32419, crs: 'gcj02', name: '3 栋大堂 Building 3 lobby' });
    expect(placeFrom({ q: encodeURIComponent('https://portal.sunny-gardens.example/mp/report?cl-place=91,113') })).toBeNull();

    const report = render('civicloop-report', { place });
    await expect.poll(() => report.data.categoryNames.length).toBeGreaterThan(10);
    expect(report.data.location).toMatchObject({ source: 'code', name: '3 栋大堂 Building 3 lobby' });
    change(
      report,
      '.category',
      report.data.categories.findIndex((c: { code: string }) => c.code === 'municipal.street_light'),
    );
    tap(report, '.submit');
    await expect.poll(() => report.data.done?.number ?? report.data.error).toMatch(/^WXMP-/);
    const ticket = await asTenant(report.data.done.number);
    expect(ticket.location.address).toBe('3 栋大堂 Building 3 lobby');
    expect(ticket.reportedLocation).toMatchObject({ lat: 23.13351, lon: 113.32419, crs: 'gcj02' });
  });

  it("asks the category's extra questions and sends the answers", async () => {
    const admin = { auth: tenant.secretKey };
    const defined = await api(gateway.url, 'PUT', '/v1/categories/property.lift_fault', {
      ...admin,
      body: {
        group: 'municipal',
        name: { 'zh-CN': '电梯故障', en: 'Lift out of order' },
        defaultPriority: 'high',
        sla: { respond: 30, arrive: 60, resolve: 480 },
        skills: [],
        private: true,
        questions: [
          {
            code: 'building',
            datatype: 'singlevaluelist',
            required: true,
            order: 1,
            description: { 'zh-CN': '哪一栋？', en: 'Which building?' },
            values: [
              { key: 'b1', name: { 'zh-CN': '1 栋', en: 'Building 1' } },
              { key: 'b3', name: { 'zh-CN': '3 栋', en: 'Building 3' } },
            ],
          },
          { code: 'trapped', datatype: 'number', required: false, order: 2, description: { 'zh-CN': '有几人被困？', en: 'How many people are stuck?' } },
        ],
      },
    });
    expect(defined.status).toBe(200);
    const report = render('civicloop-report', { place: { lat: 23.1335, lon: 113.3242, crs: 'gcj02', name: '3 栋 Building 3' } });
    await expect.poll(() => report.data.categories.some((c: { code: string }) => c.code === 'property.lift_fault')).toBe(true);
    change(
      report,
      '.category',
      report.data.categories.findIndex((c: { code: string }) => c.code === 'property.lift_fault'),
    );
    await expect.poll(() => report.data.questions.length).toBe(2);
    expect(report.dom.textContent).toContain('哪一栋？');
    tap(report, '.submit');
    await expect.poll(() => report.data.error).toContain('哪一栋');
    change(report, '.answer-building', 1);
    change(report, '.answer-trapped', '2', 'input');
    tap(report, '.submit');
    await expect.poll(() => report.data.done?.number ?? report.data.error).toMatch(/^WXMP-/);
    expect((await asTenant(report.data.done.number)).answers).toEqual({ building: 'b3', trapped: 2 });
  });

  it('says plainly when WeChat refuses the sign-in, and the portal checks what it is sent', async () => {
    nextLoginCode = 'code-nobody-knows';
    session.configure({ gatewayUrl: gateway.url, publishableKey: partner.publishableKey, partnerServerUrl: portal.url.replace(/\/$/, '') });
    const mine = render('civicloop-my-reports');
    await expect.poll(() => mine.data.error).toContain('登录失败');
    expect(mine.data.error).toContain('invalid code');
    expect(mine.data.items).toEqual([]);

    const post = (body: string) => fetch(`${portal.url}wechat/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    // What the mini-program is answered: a token and when it ends, never WeChat's session key.
    const signedIn = await post('{"code":"code-resident-1"}');
    expect(signedIn.status).toBe(200);
    const answer = await signedIn.text();
    expect(Object.keys(JSON.parse(answer) as object).sort()).toEqual(['expiresAt', 'token']);
    expect(answer).not.toContain('tiihtNczf5v6AKRyjwEUhQ==');
    expect((await post('{"code":"code-busy"}')).status).toBe(503);
    expect((await post('{"code":"code-nobody-knows"}')).status).toBe(401);
    const asked = code2Session.length;
    for (const bad of ['{}', '{"code":""}', '{"code":"a b"}', 'not json', `{"code":"${'x'.repeat(200)}"}`]) expect((await post(bad)).status, bad).toBe(400);
    // A malformed code never reaches WeChat.
    expect(code2Session).toHaveLength(asked);
    const without = await startPortal({ gatewayUrl: gateway.url, secretKey: partner.secretKey, publishableKey: partner.publishableKey });
    try {
      expect((await fetch(`${without.url}wechat/session`, { method: 'POST', body: '{"code":"code-resident-1"}' })).status).toBe(404);
    } finally {
      await without.close();
    }
  });
});
