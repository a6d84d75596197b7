import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { signToken } from '@civicloop/model';
import { fromWgs84 } from '@civicloop/model/crs';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { accessibilityViolations, CSP_RECORDER, launchChromium, send, serveHost, violations } from '@civicloop/test-support/browser.js';
import { serveTiles } from '@civicloop/test-support/tiles.js';
import { chooseCategory } from '@civicloop/test-support/widget.js';

// The resident's small map: real Chromium, the widget as shipped (dist/), a real gateway whose
// geocoder is a stand-in speaking Nominatim's documented format, and tiles served by the test.
const here = path.dirname(fileURLToPath(import.meta.url));
const RESIDENT = 'resident-3003';
// Where the phone says the resident is (GPS), and the neighbour's report 300 m east of it.
const PHONE = { lat: 23.1335, lon: 113.3242 };
const LITTER = { lat: 23.1335, lon: 113.3242 + 300 / (111_320 * Math.cos((23.1335 * Math.PI) / 180)) };

let gw: TestGateway;
let browser: Browser;
let tiles: Awaited<ReturnType<typeof serveTiles>>;
let host: Awaited<ReturnType<typeof serveHost>>;
let nominatim: { url: string; asked: { lat: number; lon: number; language: string }[]; close(): Promise<void> };

/** Nominatim's /reverse (jsonv2) as its documentation gives it: the litter's block by name, elsewhere a street. */
async function serveNominatim(): Promise<typeof nominatim> {
  const asked: { lat: number; lon: number; language: string }[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://nominatim');
    const lat = Number(url.searchParams.get('lat'));
    const lon = Number(url.searchParams.get('lon'));
    asked.push({ lat, lon, language: url.searchParams.get('accept-language') ?? '' });
    const nearLitter = Math.abs(lat - LITTER.lat) < 0.0003 && Math.abs(lon - LITTER.lon) < 0.0003;
    const body = {
      place_id: 7,
      osm_type: 'way',
      lat: String(lat),
      lon: String(lon),
      display_name: nearLitter ? 'Block 3, Sunny Gardens, Tianhe District, Guangzhou' : 'Huacheng Avenue, Tianhe District, Guangzhou',
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Web Mercator pixels at a zoom (256 px tiles), for turning "300 m east" into a drag. */
function pixels(point: { lat: number; lon: number }, zoom: number): { x: number; y: number } {
  const scale = 256 * 2 ** zoom;
  const sin = Math.sin((point.lat * Math.PI) / 180);
  return { x: ((point.lon + 180) / 360) * scale, y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale };
}

let pageHtml = '';
/** A portal whose map is AMap-style GCJ-02 tiles (ours, served locally), under a strict CSP that allows just them. */
function portal(): string {
  const csp =
    `default-src 'none'; script-src 'self' ${gw.url}; connect-src 'self' ${gw.url}; img-src ` +
    `${gw.url} ${tiles.origin} blob:; style-src 'self'; base-uri 'none'; form-action 'none'`;
  const data = {
    'publishable-key': gw.tenant.publishableKey,
    'token-url': '/token',
    'map-tiles': tiles.tileUrl,
    'map-attribution': '© Test tiles',
    'map-crs': 'gcj02',
  };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/csp.js"></script><title>Sunny Gardens</title></head>
<body><h1>Sunny Gardens residents</h1><script src="${gw.url}/widget/loader.js" ${Object.entries(data)
    .map(([k, v]) => `data-${k}="${v}"`)
    .join(' ')} async></script></body></html>`;
}

beforeAll(async () => {
  nominatim = await serveNominatim();
  tiles = await serveTiles();
  gw = await startTestGateway({ geocoder: 'nominatim', geocoderUrl: nominatim.url });
  browser = await launchChromium();
  host = await serveHost({
    '/': (request, response) => send('text/html; charset=utf-8', pageHtml)(request, response),
    '/csp.js': send('text/javascript', CSP_RECORDER),
    '/token': async (_request, response) => {
      const token = await signToken({ secretKey: gw.tenant.secretKey, sub: RESIDENT, role: 'citizen', ttlSeconds: 600 });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    },
  });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [host.origin], publicReads: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await host?.close();
  await gw?.close();
  await tiles?.close();
  await nominatim?.close();
});

const shadow = (page: Page) => page.locator('civicloop-report');

/** Drags the map so that the point `to` comes under the pin where `from` was (both WGS-84, drawn on GCJ-02 tiles at zoom 17). */
async function dragPin(page: Page, from: { lat: number; lon: number }, to: { lat: number; lon: number }): Promise<void> {
  const a = pixels(fromWgs84(from.lat, from.lon, 'gcj02'), 17);
  const b = pixels(fromWgs84(to.lat, to.lon, 'gcj02'), 17);
  await shadow(page).locator('[part="map"]').scrollIntoViewIfNeeded();
  const box = (await shadow(page).locator('[part="map"]').boundingBox())!;
  // Grab the map on the side it moves away from, and pull it the other way.
  const start = {
    x: box.x + box.width / 2 + (b.x > a.x ? box.width / 2 - 10 : 0),
    y: box.y + box.height / 2 + (b.y > a.y ? box.height / 2 - 10 : -(box.height / 2 - 10)),
  };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let step = 1; step <= 10; step++) await page.mouse.move(start.x - ((b.x - a.x) * step) / 10, start.y - ((b.y - a.y) * step) / 10);
  await page.mouse.up();
}

describe('<civicloop-report> with a map: the pin', { timeout: 90_000 }, () => {
  it('shows the fix on the map, reports with the pin moved (GCJ-02 tiles), and offers the report under the moved pin to follow instead', async () => {
    const neighbour = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'resident-4004', role: 'citizen' }),
    });
    const litter = await neighbour.tickets.create({
      category: 'sanitation.scattered_litter',
      description: 'Litter all over the lawn by block 3',
      location: { ...LITTER, crs: 'wgs84' },
    });
    pageHtml = portal();
    const context = await browser.newContext({
      permissions: ['geolocation'],
      geolocation: { latitude: PHONE.lat, longitude: PHONE.lon, accuracy: 12 },
      viewport: { width: 480, height: 900 },
    });
    try {
      const page = await context.newPage();
      await page.goto(host.url);
      await shadow(page).locator('input[type="search"]').first().focus();
      const map = shadow(page).locator('[part="map"]');
      await map.waitFor();
      // Our tiles, not anyone else's; the address of where the phone is, looked up by the gateway.
      await expect.poll(() => tiles.requested.length).toBeGreaterThan(0);
      expect(tiles.requested.every((tile) => tile.startsWith('/tiles/17/'))).toBe(true);
      const address = page.getByLabel(/^Address( \*)?$/);
      await expect.poll(() => address.inputValue()).toBe('Huacheng Avenue, Tianhe District, Guangzhou');
      expect(nominatim.asked[0]).toMatchObject({ language: 'en' });
      expect(nominatim.asked[0]!.lat).toBeCloseTo(PHONE.lat, 5);

      // 300 m from the neighbour's report: not offered.
      await chooseCategory(page, 'sanitation.scattered_litter');
      const offered = shadow(page).locator('[part="nearby"]');
      expect(await offered.isVisible()).toBe(false);

      // The resident drags the map until the pin is on the lawn by block 3.
      await dragPin(page, PHONE, LITTER);
      await expect.poll(() => shadow(page).getByText('Placed where the pin is.').count()).toBe(1);
      await expect.poll(() => offered.isVisible()).toBe(true);
      expect(await offered.locator('[data-nearby]').evaluateAll((items) => items.map((item) => item.getAttribute('data-nearby')))).toEqual([litter.id]);
      expect(await offered.locator(`[data-nearby="${litter.id}"] p`).textContent()).toMatch(/^Litter all over the lawn by block 3, \d+ m away, Reported$/);
      const distance = Number(/, (\d+) m away/.exec((await offered.locator(`[data-nearby="${litter.id}"] p`).textContent())!)![1]);
      expect(distance).toBeLessThan(15);
      // The address follows the pin.
      await expect.poll(() => address.inputValue()).toBe('Block 3, Sunny Gardens, Tianhe District, Guangzhou');
      if (process.env.UPDATE_SCREENSHOTS === '1')
        await page.screenshot({ path: path.join(here, '..', '..', '..', 'docs', 'images', 'widget-pin.png'), fullPage: true });
      expect(await accessibilityViolations(page)).toEqual([]);

      // It is the same problem: the resident follows it instead.
      await offered.locator(`[data-nearby="${litter.id}"] button`).click();
      await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toBe(`You follow report ${litter.number}: you will hear how it goes.`);
      // Staff see who follows; the reporter sees that nobody of theirs does (other residents are not theirs to know).
      expect((await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).tickets.get(litter.id)).followers).toEqual([RESIDENT]);
      expect((await neighbour.tickets.get(litter.id)).followers).toEqual([]);

      // A different problem 100 m north of the phone: reported where the pin was put.
      await shadow(page).getByRole('button', { name: 'Report another problem' }).click();
      await shadow(page).locator('input[type="search"]').first().focus();
      await chooseCategory(page, 'sanitation.bin_overflow');
      const north = { lat: PHONE.lat + 100 / 111_320, lon: PHONE.lon };
      await dragPin(page, PHONE, north);
      await expect.poll(() => shadow(page).getByText('Placed where the pin is.').count()).toBe(1);
      await page.getByLabel('What is the problem?').fill('Overflowing bin by the north gate');
      await shadow(page).locator('[part="submit"]').click();
      await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toMatch(/^Sent: report number /);
      const number = /^Sent: report number (\S+)/.exec((await shadow(page).locator('[part="outcome"]').textContent())!)![1]!;
      const stored = await new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).tickets.getByNumber(number);
      // Sent in the tiles' system and placed in WGS-84 within a few metres of where the pin was dragged.
      expect(stored.reportedLocation?.crs).toBe('gcj02');
      expect(Math.abs(stored.location.lat - north.lat) * 111_320).toBeLessThan(3);
      expect(Math.abs(stored.location.lon - north.lon) * 111_320).toBeLessThan(3);
      expect(stored.location.accuracy).toBeLessThan(12);
      expect(await violations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
