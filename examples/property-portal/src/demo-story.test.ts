import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { seedDemo, type DemoTenant } from '@civicloop/gateway';
import { CivicLoop } from '@civicloop/sdk';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { launchChromium } from '@civicloop/test-support/browser.js';
import { reportInPortal } from '@civicloop/test-support/portal.js';
import { runSimulation } from '../../fleet-simulator/src/simulate.js';
import { startPortal, type RunningPortal } from './portal.js';

// What `npm start` shows: the demo tenant as seeded, the fleet simulator working its sanitation
// unit, and a resident reporting in the portal. Nobody at a desk touches the report.
let gw: TestGateway;
let demo: DemoTenant;
let portal: RunningPortal;
let browser: Browser;
let simulation: Awaited<ReturnType<typeof runSimulation>> | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), 'civicloop-demo-story-'));

beforeAll(async () => {
  gw = await startTestGateway({ arrivalDwellSeconds: 2 }, { telemetry: true });
  demo = await seedDemo(gw.services, dataDir);
  portal = await startPortal({ gatewayUrl: gw.url, secretKey: demo.partner!.secretKey, publishableKey: demo.partner!.publishableKey });
  await gw.services.tenants.updatePolicy(demo.tenantId, { allowedOrigins: [new URL(portal.url).origin] });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await simulation?.stop();
  await browser?.close();
  await portal?.close();
  await gw?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo tells the whole story', { timeout: 120_000 }, () => {
  it('a report made in the portal is routed, dispatched to the nearest simulated worker, worked, verified and closed by itself', async () => {
    // The demo's zone routes street reports to its sanitation unit, which the simulator's workers join (as npm start runs it).
    simulation = await runSimulation({
      baseUrl: gw.url,
      mqttUrl: `mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`,
      secretKey: demo.secretKey,
      unitId: 'sanitation',
      vehicles: 1,
      workers: 3,
      tickMs: 100,
      speedup: 100,
      reportEveryTicks: 0,
      log: () => undefined,
    });

    const context = await browser.newContext({ permissions: ['geolocation'], geolocation: { latitude: 23.1335, longitude: 113.3242, accuracy: 15 } });
    const page = await context.newPage();
    await page.goto(portal.url);
    const number = await reportInPortal(page, { flat: '5-1-802', category: 'sanitation.bin_overflow', description: '8 栋旁垃圾桶满了' });
    await context.close();

    const server = new CivicLoop({ baseUrl: gw.url, apiKey: demo.secretKey });
    const reported = await server.tickets.getByNumber(number);
    // Routed by the zone at once: the unit and its nearest checked-in worker.
    expect(reported.unitId).toBe('sanitation');
    expect(reported.assigneeId).toMatch(/^sim-worker-\d$/);
    await expect.poll(async () => (await server.tickets.get(reported.id)).status, { timeout: 90_000, interval: 250 }).toBe('closed');

    const history = await server.tickets.history(reported.id);
    expect(history.map((e) => e.type)).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved', 'verified']);
    expect(history.find((e) => e.type === 'arrived')?.data).toMatchObject({ automatic: true });
    // The after-photo is a real upload the gateway stored, shown with a link that loads.
    const closed = await server.tickets.get(reported.id);
    expect(closed.afterPhotos[0]!.ref).toMatch(/^media:/);
    const image = await fetch(server.media.url(closed.afterPhotos[0]!));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(simulation.stats.errors).toBe(0);
  });
});
