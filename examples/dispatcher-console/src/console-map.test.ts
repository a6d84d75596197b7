import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { CivicLoop } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { accessibilityViolations, cspComplaints, launchChromiumWithWebGL } from '@civicloop/test-support/browser.js';
import { serveTiles } from '@civicloop/test-support/tiles.js';
import { startConsole, type ConsoleMapOptions, type ConsoleOperator } from './console.js';

const publicDir = new URL('../dist/public/', import.meta.url);
let gw: TestGateway;
let tiles: Awaited<ReturnType<typeof serveTiles>>;
let browser: Browser;
let server: CivicLoop;

beforeAll(async () => {
  if (!existsSync(new URL('maplibre-gl-worker.mjs', publicDir)))
    throw new Error('examples/dispatcher-console/dist is missing: run npm run build first (npm test does).');
  gw = await startTestGateway({}, { telemetry: true });
  tiles = await serveTiles();
  browser = await launchChromiumWithWebGL();
  server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
  await server.zones.create({
    id: 'tianhe',
    name: 'Tianhe',
    type: 'district',
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [113.3, 23.1],
          [113.36, 23.1],
          [113.36, 23.16],
          [113.3, 23.16],
          [113.3, 23.1],
        ],
      ],
    },
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await tiles?.close();
  await gw?.close();
});

/** A console with this map configuration, opened in a fresh page; CSP complaints are collected. */
async function openConsole(map: ConsoleMapOptions, operator?: ConsoleOperator): Promise<{ page: Page; csp: string[]; close(): Promise<void> }> {
  const consoleServer = await startConsole({
    gatewayUrl: gw.url,
    secretKey: gw.tenant.secretKey,
    publishableKey: gw.tenant.publishableKey,
    publicDir,
    map,
    ...(operator ? { operator } : {}),
  });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [new URL(consoleServer.url).origin] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const csp = cspComplaints(page);
  await page.goto(consoleServer.url);
  await page.locator('body[data-ready="true"]').waitFor();
  return {
    page,
    csp,
    close: async () => {
      await context.close();
      await consoleServer.close();
    },
  };
}

describe("the console map over the command centre's own tiles (MapLibre)", { timeout: 90_000 }, () => {
  it('draws zones, clusters the tickets, zooms into a cluster and opens a ticket from the map, under its strict CSP', async () => {
    // Four reports on one corner, one across the district: at the district's zoom the four are one cluster.
    const corner = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        server.tickets.create({ ...BIN_REPORT, description: `Bin ${i} by the market`, location: { lat: 23.12 + i * 0.0003, lon: 113.32 + i * 0.0003 } }),
      ),
    );
    const apart = await server.tickets.create({ ...BIN_REPORT, description: 'Bin by the river', location: { lat: 23.155, lon: 113.355 } });
    const tilesBefore = tiles.requested.length;
    const { page, csp, close } = await openConsole({ styleUrl: tiles.styleUrl });
    try {
      const map = page.locator('#map');
      await expect.poll(() => map.locator('canvas.maplibregl-canvas').count()).toBe(1);
      // The map really fetched our tiles, and frames the zone.
      await expect.poll(() => tiles.requested.length).toBeGreaterThan(tilesBefore);
      const cluster = map.locator('button.map-cluster');
      await expect.poll(() => cluster.count()).toBe(1);
      expect(await cluster.getAttribute('data-cluster')).toBe(String(corner.length));
      expect(await cluster.getAttribute('aria-label')).toBe('4 tickets here: zoom in 此处4件，放大');
      expect(await map.locator(`button[data-map-ticket="${apart.id}"]`).count()).toBe(1);
      expect(await map.locator('.legend').textContent()).toBe('Ticket 案件Several, zoom in 多个Vehicle 车辆Worker 人员Zone 区域');
      if (process.env.UPDATE_SCREENSHOTS === '1')
        await page.locator('#map').screenshot({ path: new URL('../../../docs/images/console-map.png', import.meta.url).pathname });

      // Into the cluster: its four tickets, each a button of its own.
      // Into the cluster (and any cluster it splits into) until its four tickets are buttons of their own.
      const shownTickets = () => map.locator('button.map-ticket').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-map-ticket')));
      await cluster.click();
      await expect
        .poll(
          async () => {
            const shown = await shownTickets();
            if (!corner.every((t) => shown.includes(t.id)) && (await cluster.count()) > 0)
              await cluster
                .first()
                .click()
                .catch(() => undefined);
            return corner.filter((t) => shown.includes(t.id)).length;
          },
          { timeout: 20_000, interval: 1000 },
        )
        .toBe(corner.length);
      // Keyboard: a ticket on the map opens with Enter, in the same detail dialog the board opens.
      await map.locator(`button[data-map-ticket="${corner[2]!.id}"]`).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#detail[open] #detail-title').textContent()).toContain(corner[2]!.number);
      await page.keyboard.press('Escape');

      // A new report appears on the map live.
      const late = await server.tickets.create({ ...BIN_REPORT, description: 'Bin by the school', location: { lat: 23.1203, lon: 113.3208 } });
      await expect.poll(() => map.getAttribute('data-tickets')).toBe(String(corner.length + 2));
      await expect.poll(() => map.locator(`button[data-map-ticket="${late.id}"]`).count()).toBe(1);
      // A truck reports its position: it joins the fleet layer live.
      const truck = await server.devices.register({ kind: 'vehicle', name: 'Truck 粤A-54321' });
      const fix = await fetch(
        `${gw.url}/v1/osmand?key=${truck.credential.password}&id=${truck.device.id}&lat=23.13&lon=113.33&timestamp=${Math.floor(Date.now() / 1000) - 1}`,
        { method: 'POST' },
      );
      expect(fix.status).toBe(200);
      await expect.poll(() => map.getAttribute('data-fleet')).toBe('1');
      expect(csp).toEqual([]);
      expect(await accessibilityViolations(page)).toEqual([]);
    } finally {
      await close();
    }
  });

  it("makes the style itself from a raster tile template, and shows points in the tenant's display system", async () => {
    await server.updatePolicy({ defaultCrs: 'gcj02' });
    const tilesBefore = tiles.requested.length;
    const { page, csp, close } = await openConsole({ tileUrl: tiles.tileUrl, attribution: '© Test tiles' });
    try {
      await expect.poll(() => tiles.requested.length).toBeGreaterThan(tilesBefore);
      expect(await page.locator('#map [data-crs]').getAttribute('data-crs')).toBe('gcj02');
      expect(await page.locator('#map .maplibregl-ctrl-attrib').textContent()).toContain('© Test tiles');
      // The river report, read in GCJ-02: a few hundred metres from its WGS-84 point (Guangzhou's offset).
      const river = (await server.tickets.list({ limit: 100 })).items.find((t) => t.description === 'Bin by the river')!;
      const marker = page.locator(`#map button[data-map-ticket="${river.id}"]`);
      await expect.poll(() => marker.count()).toBe(1);
      const [lon, lat] = (await marker.getAttribute('data-lonlat'))!.split(',').map(Number);
      expect(lat).not.toBeCloseTo(23.155, 4);
      expect(Math.abs(lat! - 23.155)).toBeLessThan(0.01);
      expect(Math.abs(lon! - 113.355)).toBeLessThan(0.01);
      expect(csp).toEqual([]);
    } finally {
      await server.updatePolicy({ defaultCrs: 'wgs84' });
      await close();
    }
  });

  it('falls back to the district outline, and says why, when the style cannot be loaded', async () => {
    const { page, close } = await openConsole({ styleUrl: `${tiles.origin}/missing-style.json` });
    try {
      await expect.poll(() => page.locator('#map [data-map-fallback]').textContent()).toMatch(/^The tiled map could not start \(.+\); showing the outline\./);
      expect(await page.locator('#map path.zone').count()).toBe(1);
      expect(await page.locator('#map canvas').count()).toBe(0);
    } finally {
      await close();
    }
  });

  it('refuses a map configuration it cannot serve, naming the option', async () => {
    await expect(
      startConsole({
        gatewayUrl: gw.url,
        secretKey: gw.tenant.secretKey,
        publishableKey: gw.tenant.publishableKey,
        publicDir,
        map: { tileUrl: 'tiles/{z}/{x}/{y}.png' },
      }),
    ).rejects.toThrow('dispatcher-console: map.tileUrl is not an http(s) URL: tiles/{z}/{x}/{y}.png');
    await expect(
      startConsole({
        gatewayUrl: gw.url,
        secretKey: gw.tenant.secretKey,
        publishableKey: gw.tenant.publishableKey,
        publicDir,
        map: { styleUrl: tiles.styleUrl, tileUrl: tiles.tileUrl },
      }),
    ).rejects.toThrow('dispatcher-console: set map.styleUrl or map.tileUrl, not both');
  });

  it('lets an admin add zones from a GeoJSON file (in GCJ-02) and by drawing on the map, refuses what cannot be a zone, and removes one', async () => {
    // Two villages as a GIS department would export them, read off AMap (GCJ-02).
    const square = (lon: number, lat: number) => [
      [
        [lon, lat],
        [lon + 0.01, lat],
        [lon + 0.01, lat + 0.01],
        [lon, lat + 0.01],
        [lon, lat],
      ],
    ];
    const villages = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', id: 'liede', properties: { name: '猎德村' }, geometry: { type: 'Polygon', coordinates: square(113.33, 23.12) } },
        { type: 'Feature', properties: { id: 'xian', name: '冼村' }, geometry: { type: 'Polygon', coordinates: square(113.315, 23.125) } },
      ],
    };
    const { page, csp, close } = await openConsole({ tileUrl: tiles.tileUrl }, { sub: 'a-1', role: 'admin', name: '吴管理 Wu' });
    try {
      const admin = page.locator('#zones-admin');
      const rows = admin.locator('tr[data-zone]');
      await expect.poll(() => rows.count()).toBe(1);
      const status = admin.locator('.status');

      // A file that is not zones: said plainly, nothing saved.
      await page.setInputFiles('#zone-file', {
        name: 'roads.geojson',
        mimeType: 'application/geo+json',
        buffer: Buffer.from(
          JSON.stringify({
            type: 'Feature',
            properties: {},
            geometry: {
              type: 'LineString',
              coordinates: [
                [113.3, 23.1],
                [113.4, 23.2],
              ],
            },
          }),
        ),
      });
      await expect.poll(() => status.textContent()).toBe('roads.geojson: The feature is a LineString; a zone needs a Polygon or MultiPolygon.');

      // The villages, routed to sanitation for its categories.
      await page.selectOption('#zone-crs', 'gcj02');
      await page.setInputFiles('#zone-file', { name: 'villages.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(villages)) });
      await expect.poll(() => admin.locator('[data-outline]').textContent()).toBe('villages.geojson: 2 outlines read 已读取 (猎德村, 冼村)');
      await page.selectOption('#zone-type', 'village');
      await page.selectOption('#zone-unit', 'sanitation');
      await page.fill('#zone-categories', 'sanitation.*');
      await admin.getByRole('button', { name: 'Save zone 保存区域' }).click();
      await expect.poll(() => status.textContent()).toBe('Saved 已保存: 猎德村, 冼村');
      await expect.poll(() => rows.count()).toBe(3);
      expect(await admin.locator('tr[data-zone="liede"] td').first().textContent()).toBe('Village 村');
      const liede = await server.zones.get('liede');
      expect(liede).toMatchObject({ name: '猎德村', type: 'village', drawnIn: 'gcj02', routes: [{ unitId: 'sanitation', categories: ['sanitation.*'] }] });
      // Stored in WGS-84: the GCJ-02 corner moved back by Guangzhou's few hundred metres.
      expect(liede.geometry.coordinates[0]![0]![0]).not.toBeCloseTo(113.33, 3);
      // It routes at once: a bin reported (by GPS) inside Liede goes to sanitation; the map draws the new zones.
      const insideGcj = { lat: 23.125, lon: 113.335 };
      const inside = await server.tickets.create({
        category: 'sanitation.bin_overflow',
        description: 'Bin in Liede',
        location: { ...insideGcj, crs: 'gcj02' },
      });
      expect(inside.unitId).toBe('sanitation');
      await expect.poll(() => page.locator('#map').getAttribute('data-zones')).toBe('3');

      // The same file again: the gateway refuses the first (its id is taken), and the console says which.
      await page.setInputFiles('#zone-file', { name: 'villages.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(villages)) });
      await admin.getByRole('button', { name: 'Save zone 保存区域' }).click();
      await expect.poll(() => status.textContent()).toMatch(/^Not saved 未保存: 猎德村 \(liede\): .+ \(CL_ERR_ALREADY_EXISTS\)$/);
      expect(await rows.count()).toBe(3);
      await page.locator('#zone-file').setInputFiles([]);

      // A park drawn on the map: four clicks, finish, save.
      await admin.getByRole('button', { name: 'Draw on the map 在地图上绘制' }).click();
      const canvas = (await page.locator('#map canvas.maplibregl-canvas').boundingBox())!;
      for (const [dx, dy] of [
        [0.3, 0.3],
        [0.45, 0.3],
        [0.45, 0.45],
        [0.3, 0.45],
      ] as const) {
        await page.mouse.click(canvas.x + canvas.width * dx, canvas.y + canvas.height * dy);
      }
      await expect.poll(() => page.locator('#map').getAttribute('data-drawn-points')).toBe('4');
      await admin.getByRole('button', { name: 'Finish shape 完成' }).click();
      expect(await admin.locator('[data-outline]').textContent()).toBe('Drawn outline 已绘制: 4 corners (WGS-84 (GPS))');
      await page.fill('#zone-id', 'park-1');
      await page.fill('#zone-name', 'Riverside park 滨江公园');
      await page.selectOption('#zone-type', 'park');
      await admin.getByRole('button', { name: 'Save zone 保存区域' }).click();
      await expect.poll(() => status.textContent()).toBe('Saved 已保存: Riverside park 滨江公园');
      const park = await server.zones.get('park-1');
      expect(park.geometry.type).toBe('Polygon');
      const ring = park.geometry.coordinates[0] as [number, number][];
      expect(ring).toHaveLength(5);
      expect(ring[4]).toEqual(ring[0]);
      // Inside the district the map framed.
      for (const [lon, lat] of ring) {
        expect(lon).toBeGreaterThan(113.29);
        expect(lon).toBeLessThan(113.37);
        expect(lat).toBeGreaterThan(23.09);
        expect(lat).toBeLessThan(23.17);
      }
      if (process.env.UPDATE_SCREENSHOTS === '1') await admin.screenshot({ path: new URL('../../../docs/images/console-zones.png', import.meta.url).pathname });
      expect(await accessibilityViolations(page)).toEqual([]);

      // Removed with a second press.
      const remove = admin.locator('[data-remove-zone="park-1"]');
      await remove.click();
      expect(await remove.textContent()).toBe('Press again to remove 再按一次删除');
      await remove.click();
      await expect.poll(() => status.textContent()).toBe('Removed 已删除: Riverside park 滨江公园');
      await expect(server.zones.get('park-1')).rejects.toMatchObject({ code: 'CL_ERR_NOT_FOUND' });
      expect(csp).toEqual([]);
    } finally {
      for (const id of ['liede', 'xian', 'park-1']) await server.zones.remove(id).catch(() => undefined);
      await close();
    }
  });
});
