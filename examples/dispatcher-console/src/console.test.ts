import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { cspComplaints, launchChromium } from '@civicloop/test-support/browser.js';
import { startConsole } from './console.js';

const publicDir = new URL('../dist/public/', import.meta.url);
let gw: TestGateway;
let consoleServer: Awaited<ReturnType<typeof startConsole>>;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(new URL('console.js', publicDir))) throw new Error('examples/dispatcher-console/dist is missing: run npm run build first (npm test does).');
  gw = await startTestGateway({}, { telemetry: true });
  consoleServer = await startConsole({ gatewayUrl: gw.url, secretKey: gw.tenant.secretKey, publishableKey: gw.tenant.publishableKey, publicDir });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(consoleServer.url).origin] });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await consoleServer?.close();
  await gw?.close();
});

describe('examples/dispatcher-console in Chromium', { timeout: 60_000 }, () => {
  it('shows the board with countdowns, moves a ticket live, and draws KPIs, chart, map and black spots under a strict CSP', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    await server.zones.create({
      id: 'tianhe',
      name: 'Tianhe',
      type: 'district',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [113.2, 23.0],
            [113.5, 23.0],
            [113.5, 23.3],
            [113.2, 23.3],
            [113.2, 23.0],
          ],
        ],
      },
    });
    const waiting = await server.tickets.create(BIN_REPORT);
    // Today's roster is sampled (three workers, none checked in); there are no vehicles.
    expect(await gw.stats.workforce.sample(gw.tenant.id, new Date())).toBe(true);
    const context = await browser.newContext();
    const page = await context.newPage();
    const cspErrors = cspComplaints(page);
    await page.goto(consoleServer.url);
    await page.locator('body[data-ready="true"]').waitFor();

    const card = page.locator(`[data-ticket="${waiting.id}"]`);
    expect(await card.locator('xpath=ancestor::div[@data-state]').getAttribute('data-state')).toBe('reported');
    expect(await card.locator('.countdown').textContent()).toBe('Not dispatched 待派');
    expect(await card.locator('.category').textContent()).toBe('垃圾桶满溢 Overflowing bin');
    expect(await card.locator('.age').textContent()).toBe('age 0m');
    expect(await page.locator('[data-kpi="Reported today"] .value').textContent()).toBe('1');
    expect(await page.locator('[data-kpi="Attendance"] .value').textContent()).toBe('0%');
    expect(await page.locator('[data-kpi="Vehicles online"] .value').textContent()).toBe('–');
    expect(await page.locator('#map path.zone').count()).toBe(1);
    expect(await page.locator('#chart rect.bar').count()).toBe(7);
    expect(await page.locator('#blackspots').textContent()).toContain('No open black spots.');

    // Dispatched from elsewhere: the card moves to its column by itself, with the deadline it must
    // meet next (accepting within 30 minutes), not the resolve deadline hours away.
    await server.tickets.dispatch(waiting.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await expect.poll(() => page.locator(`[data-state="dispatched"] [data-ticket="${waiting.id}"]`).count()).toBe(1);
    expect(await page.locator(`[data-ticket="${waiting.id}"] .countdown`).textContent()).toMatch(/^Respond 响应: (29m|30m) left$/);
    const another = await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.2, lon: 113.4 } });
    await expect.poll(() => page.locator(`[data-state="reported"] [data-ticket="${another.id}"]`).count()).toBe(1);
    await expect.poll(() => page.locator('[data-kpi="Reported today"] .value').textContent()).toBe('2');
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it('renews its token before it expires, and says plainly when it is not live', async () => {
    let signedIn = true;
    const shortLived = await startConsole({
      gatewayUrl: gw.url,
      secretKey: gw.tenant.secretKey,
      publishableKey: gw.tenant.publishableKey,
      publicDir,
      tokenTtlSeconds: 3,
      signedIn: () => signedIn,
    });
    await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(consoleServer.url).origin, new URL(shortLived.url).origin] });
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(shortLived.url);
      await page.locator('body[data-ready="true"]').waitFor();
      const badge = page.locator('#live');
      await expect.poll(() => badge.getAttribute('data-state')).toBe('live');
      expect(await badge.textContent()).toMatch(/^Live/);
      // Well past the first token's three seconds, the board still follows new reports.
      await page.waitForFunction(() => performance.now() > 4500);
      const later = await server.tickets.create({ ...BIN_REPORT, location: { lat: 23.21, lon: 113.41 } });
      await expect.poll(() => page.locator(`[data-ticket="${later.id}"]`).count(), { timeout: 15_000 }).toBe(1);
      // The streams drop: the header says so, then live again once they are back.
      gw.streams.closeAll();
      await expect.poll(() => badge.getAttribute('data-state')).toBe('reconnecting');
      expect(await badge.textContent()).toMatch(/Not live: reconnecting/);
      await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
      // The console's own server is out of reach when the token is due: not live, yet not signed
      // out either, and live again once the server answers.
      let unreachable = 0;
      await page.route('**/token.json', (route) => {
        unreachable++;
        return route.abort('connectionrefused');
      });
      const due = await page.evaluate(() => performance.now() + 3500);
      await page.waitForFunction((at) => performance.now() > at, due);
      gw.streams.closeAll();
      await expect.poll(() => badge.getAttribute('data-state')).toBe('reconnecting');
      // It keeps trying: each of its two streams asks more than once (a stream told "signed out"
      // would stop at its first refusal).
      await expect.poll(() => unreachable, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
      expect(await badge.getAttribute('data-state')).toBe('reconnecting');
      await page.unroute('**/token.json');
      await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
      // The operator's sign-in ends: the next renewal is refused and the console says to sign in.
      signedIn = false;
      const expired = await page.evaluate(() => performance.now() + 3500);
      await page.waitForFunction((at) => performance.now() > at, expired);
      gw.streams.closeAll();
      await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('signed-out');
      expect(await badge.textContent()).toMatch(/sign in again/);
    } finally {
      await context.close();
      await shortLived.close();
    }
  });

  it("shows device alarms in their own panel as they happen, and draws the map in the tenant's display system", async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const badge = await server.devices.register({ kind: 'badge', name: 'Badge 17', staffId: 'w-17' });
    const truck = await server.devices.register({ kind: 'vehicle', name: 'Truck 粤A-12345' });
    // A city whose maps are AMap: the console reads every point in GCJ-02.
    await server.updatePolicy({ defaultCrs: 'gcj02' });
    const context = await browser.newContext();
    try {
      const wgs84 = { lat: 23.1291, lon: 113.2644 };
      const reported = await server.tickets.create({ ...BIN_REPORT, location: { ...wgs84, crs: 'wgs84' } });
      const page = await context.newPage();
      await page.goto(consoleServer.url);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.locator('#map [data-crs]').getAttribute('data-crs')).toBe('gcj02');
      const [lon, lat] = (await page.locator(`#map circle[data-ticket-dot="${reported.id}"]`).getAttribute('data-lonlat'))!.split(',').map(Number);
      // GCJ-02 shows Guangzhou's centre ~600 m from where GPS puts it.
      expect(lat).toBeCloseTo(23.126423, 4);
      expect(lon).toBeCloseTo(113.26973, 4);
      expect(await page.locator('#alerts').textContent()).toContain('No recent alarms.');
      await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
      // A second dispatcher's console, open as the alarms come.
      const colleague = await context.newPage();
      await colleague.goto(consoleServer.url);
      await colleague.locator('body[data-ready="true"]').waitFor();
      await expect.poll(() => colleague.locator('#live').getAttribute('data-state')).toBe('live');

      const at = Math.floor(Date.now() / 1000) - 1;
      const sos = await fetch(`${gw.url}/v1/osmand?key=${badge.credential.password}&id=${badge.device.id}&lat=23.12&lon=113.25&timestamp=${at}&alarm=sos`, {
        method: 'POST',
      });
      expect(sos.status).toBe(200);
      const overspeed = await fetch(
        `${gw.url}/v1/osmand?key=${truck.credential.password}&id=${truck.device.id}&lat=23.13&lon=113.26&timestamp=${at}&alarm=overspeed&speed=60`,
        { method: 'POST' },
      );
      expect(overspeed.status).toBe(200);

      const sosItem = page.locator(`#alerts [data-alert="sos"][data-device="${badge.device.id}"]`);
      await expect.poll(() => sosItem.count()).toBe(1);
      // Sound was off: nothing sounded. The SOS and the vehicle alarm sound once the operator turns it on.
      expect(await page.locator('#alerts').getAttribute('data-sounded')).toBeNull();
      expect(await sosItem.textContent()).toMatch(/^SOS 求救 Badge 17 \(w-17\) .* → [A-Z0-9]+-\d{8}-\d{4} Confirm 确认报警$/);
      const alarmItem = page.locator(`#alerts [data-alert="alarm"][data-device="${truck.device.id}"]`);
      await expect.poll(() => alarmItem.count()).toBe(1);
      // An overspeed ends by itself: no terminal holds it until confirmed, so it has no button.
      expect(await alarmItem.locator('[data-confirm]').count()).toBe(0);
      // The dispatcher confirms the SOS: the badge is sent the confirmation, and the row says so.
      const colleagueSos = colleague.locator(`#alerts [data-alert="sos"][data-device="${badge.device.id}"]`);
      await expect.poll(() => colleagueSos.locator('button[data-confirm="sos"]').count()).toBe(1);
      await sosItem.locator('button[data-confirm="sos"]').click();
      await sosItem.locator('[data-confirmed]').waitFor();
      expect(await sosItem.locator('[data-confirm]').count()).toBe(0);
      // The other console hears it on the event stream: confirmed, by whom, and no button left to press.
      await expect.poll(() => colleagueSos.locator('[data-confirmed]').getAttribute('data-confirmed')).toBe('Dispatch console');
      expect(await colleagueSos.textContent()).toMatch(/Confirmed 已确认 · Dispatch console$/);
      expect(await colleagueSos.locator('[data-confirm]').count()).toBe(0);
      await colleague.close();
      // It is recorded, by the console's operator; this badge reports by OsmAnd, which takes no commands, so none waits for it.
      expect((await server.fleet.alerts({ limit: 1 }))[0]!.alert).toMatchObject({
        type: 'alarm_confirmed',
        deviceId: badge.device.id,
        alarms: ['sos'],
        confirmedBy: { sub: 'console-dispatcher', role: 'dispatcher' },
      });
      expect((await server.devices.state(badge.device.id)).waiting).toEqual([]);
      await page.check('#alarm-sound');
      // The truck's overspeed ends, then starts again: a new alarm, which sounds.
      const calm = await fetch(`${gw.url}/v1/osmand?key=${truck.credential.password}&id=${truck.device.id}&lat=23.13&lon=113.26&timestamp=${at + 1}&speed=30`, {
        method: 'POST',
      });
      expect(calm.status).toBe(200);
      const again = await fetch(
        `${gw.url}/v1/osmand?key=${truck.credential.password}&id=${truck.device.id}&lat=23.13&lon=113.27&timestamp=${at + 2}&alarm=overspeed&speed=61`,
        { method: 'POST' },
      );
      expect(again.status).toBe(200);
      await expect.poll(() => page.locator(`#alerts [data-alert="alarm"][data-device="${truck.device.id}"]`).count()).toBe(2);
      await expect.poll(() => page.locator('#alerts').getAttribute('data-sounded')).toBe('1');
      expect(await alarmItem.last().textContent()).toContain('Alarm 报警: overspeed Truck 粤A-12345');
      // The SOS opened an urgent ticket: it is on the board too.
      const number = /([A-Z0-9]+-\d{8}-\d{4})$/.exec((await sosItem.locator('.alert-ticket').textContent())!)![1]!;
      const sosTicket = await server.tickets.getByNumber(number);
      await expect.poll(() => page.locator(`[data-state="reported"] [data-ticket="${sosTicket.id}"]`).count()).toBe(1);
      // The sound choice is kept in this browser: a page opened later has it on.
      await page.close();
      const later = await context.newPage();
      await later.goto(consoleServer.url);
      await later.locator('body[data-ready="true"]').waitFor();
      expect(await later.isChecked('#alarm-sound')).toBe(true);
      // A console opened after the alarms (a reload, the next shift) still lists them, newest
      // first, the SOS confirmed and by whom; none of them sounds again.
      const listed = later.locator('#alerts li');
      expect(await listed.evaluateAll((rows) => rows.map((row) => [row.getAttribute('data-alert'), row.getAttribute('data-device')]))).toEqual([
        ['alarm', truck.device.id],
        ['alarm', truck.device.id],
        ['sos', badge.device.id],
      ]);
      expect(await listed.last().locator('[data-confirmed]').getAttribute('data-confirmed')).toBe('Dispatch console');
      expect(await later.locator('#alerts').getAttribute('data-sounded')).toBeNull();
    } finally {
      await context.close();
      await server.updatePolicy({ defaultCrs: 'wgs84' });
    }
  });

  it('reads its first screen itself when its server does not, and still shows the board and stays live when a side panel cannot load, saying why', async () => {
    // A console whose server does not read the first screen (it cannot reach the gateway): the page reads it.
    const selfReading = await startConsole({
      gatewayUrl: gw.url,
      secretKey: gw.tenant.secretKey,
      publishableKey: gw.tenant.publishableKey,
      publicDir,
      firstScreen: false,
    });
    await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(consoleServer.url).origin, new URL(selfReading.url).origin] });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const asked: string[] = [];
      page.on('request', (request) => asked.push(new URL(request.url()).pathname));
      await page.route('**/v1/stats?**', (route) =>
        route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'CL_ERR_INTERNAL', message: 'Unexpected gateway error; retry, and report it with the request id if it persists.', retryable: false },
          }),
        }),
      );
      await page.goto(selfReading.url);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(asked).not.toContain('/first-screen.json');
      expect(asked).toEqual(expect.arrayContaining(['/v1/me', '/v1/events/position', '/v1/tickets', '/v1/fleet', '/v1/zones', '/v1/blackspots', '/v1/stats']));
      expect(await page.locator('#kpis .error').textContent()).toBe(
        'Unexpected gateway error; retry, and report it with the request id if it persists. (CL_ERR_INTERNAL)',
      );
      expect(await page.locator('#columns [data-state="reported"]').count()).toBe(1);
      await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    } finally {
      await context.close();
      await selfReading.close();
      await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(consoleServer.url).origin] });
    }
  });

  it('misses nothing that changes between its server reading the first screen and the page going live', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // The page's script is held back until its first screen has been read and then a report has
      // been made: the first screen does not show it.
      const firstScreen = page.waitForResponse((response) => new URL(response.url()).pathname === '/first-screen.json');
      let madeMeanwhile: { id: string } | undefined;
      await page.route('**/console.js', async (route) => {
        await firstScreen;
        madeMeanwhile ??= await server.tickets.create({ ...BIN_REPORT, description: 'Reported while the console was loading' });
        await route.continue();
      });
      await page.goto(consoleServer.url);
      await page.locator('body[data-ready="true"]').waitFor();
      expect(madeMeanwhile).toBeDefined();
      expect((await (await firstScreen).json()).open.map((t: { id: string }) => t.id)).not.toContain(madeMeanwhile!.id);
      await expect.poll(() => page.locator(`#columns [data-ticket="${madeMeanwhile!.id}"]`).count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('reads its first screen on its server while the page loads, so the page asks the gateway nothing before the board is drawn', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const asked: string[] = [];
      page.on('request', (request) => asked.push(new URL(request.url()).pathname));
      const firstScreen = page.waitForResponse((response) => new URL(response.url()).pathname === '/first-screen.json');
      await page.goto(consoleServer.url);
      await page.locator('body[data-ready="true"]').waitFor();
      // Asked once: the page's own request takes the preloaded answer, which the server began
      // reading when it sent the page (the id in its URL).
      expect(asked.filter((p) => p === '/first-screen.json')).toEqual(['/first-screen.json']);
      expect(await page.locator('link[rel="preload"]').getAttribute('href')).toMatch(/^\/first-screen\.json\?read=[0-9a-f-]{36}$/);
      // The chunks console.js imports are asked for beside it, not after it.
      const imported = [...readFileSync(new URL('console.js', publicDir), 'utf8').matchAll(/from"\.(\/chunks\/[^"]+\.js)"/g)].map((m) => m[1]);
      expect(imported.length).toBeGreaterThan(0);
      expect((await page.locator('link[rel="modulepreload"]').evaluateAll((links) => links.map((l) => l.getAttribute('href')))).sort()).toEqual(
        [...new Set(imported)].sort(),
      );
      expect(asked.filter((p) => p.startsWith('/v1/') && p !== '/v1/events' && p !== '/v1/fleet/events')).toEqual([]);
      const response = await firstScreen;
      expect(response.headers()['cache-control']).toBe('no-store');
      const data = (await response.json()) as {
        me: { actor: { sub: string; role: string } };
        catalogue: { categories: unknown[] };
        units: { id: string }[];
        lastEventId: string;
        open: { id: string; status: string }[];
        zones: unknown[];
        fleet: { type: string };
        figures: { value: { days: string[] } };
        blackSpots: { value: unknown[] };
        recentlyClosed: { value: unknown[] };
      };
      expect(data.me.actor).toMatchObject({ sub: 'console-dispatcher', role: 'dispatcher' });
      expect(data.catalogue.categories.length).toBeGreaterThan(40);
      expect(data.units.map((u) => u.id)).toContain('sanitation');
      expect(data.lastEventId).toMatch(/^\d+-\d+$/);
      const reported = await server.tickets.list({ status: 'reported', limit: 200 });
      expect(
        data.open
          .filter((t) => t.status === 'reported')
          .map((t) => t.id)
          .sort(),
      ).toEqual(reported.items.map((t) => t.id).sort());
      expect(data.fleet.type).toBe('FeatureCollection');
      expect(data.figures.value.days).toHaveLength(7);
      expect(Array.isArray(data.blackSpots.value) && Array.isArray(data.recentlyClosed.value)).toBe(true);
      // The page runs on it: the operator is shown, every reported ticket is on the board.
      expect(await page.locator('#operator').textContent()).toBe('Dispatch console · dispatcher');
      expect(await page.locator('#columns [data-state="reported"] [data-ticket]').count()).toBe(Math.min(100, reported.items.length));
    } finally {
      await context.close();
    }
  });

  it('refuses the first screen to a browser that is not signed in', async () => {
    const signedOut = await startConsole({
      gatewayUrl: gw.url,
      secretKey: gw.tenant.secretKey,
      publishableKey: gw.tenant.publishableKey,
      publicDir,
      signedIn: () => false,
    });
    try {
      const response = await fetch(new URL('/first-screen.json', signedOut.url));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'signed out' });
    } finally {
      await signedOut.close();
    }
  });
});
