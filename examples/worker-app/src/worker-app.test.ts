import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CivicLoop, type Ticket } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { CHROMIUM, launchChromium, accessibilityViolations } from '@civicloop/test-support/browser.js';
import { startWorkerApp } from './server.js';

// A worker on a phone (Chromium with a phone's viewport, touch and position) against a real
// gateway: jobs accepted, arrived at and resolved with a camera photo while offline, sent once
// back online; the phone as the worker's badge, so arriving happens by itself.
const publicDir = new URL('../dist/public/', import.meta.url);
const shots =
  process.env.UPDATE_SCREENSHOTS === '1' ? new URL('../../../docs/images/', import.meta.url) : new URL('../../../.test-results/screenshots/', import.meta.url);
const SITE = { lat: 23.1291, lon: 113.2644 };
const metersNorth = (m: number) => ({ latitude: SITE.lat + m / 111_320, longitude: SITE.lon });
const PHONE = { viewport: { width: 412, height: 860 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };

let gw: TestGateway;
let browser: Browser;
let server: CivicLoop;
let appUrl: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (!existsSync(new URL('app.js', publicDir))) throw new Error('examples/worker-app/dist is missing: run npm run build first (npm test does).');
  mkdirSync(shots, { recursive: true });
  // Arrival as soon as the phone is on site: the dwell time is the subject of the gateway's own tests.
  gw = await startTestGateway({ arrivalDwellSeconds: 0 }, { telemetry: true });
  browser = await launchChromium();
  server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
  await server.staff.create({ id: 'w-phone', name: '李师傅 Li', role: 'worker', unitId: 'sanitation', skills: ['cleaning'] });
  const app = await startWorkerApp({
    gatewayUrl: gw.url,
    secretKey: gw.tenant.secretKey,
    publishableKey: gw.tenant.publishableKey,
    deviceUrl: `ws://127.0.0.1:${gw.telemetry!.wsPort}`,
    publicDir,
  });
  closers.push(app.close);
  appUrl = app.url;
  const { policy } = (await gw.services.tenants.context(gw.tenant.id))!.tenant;
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [...policy.allowedOrigins, new URL(app.url).origin] });
}, 60_000);
afterAll(async () => {
  // The phones first, then the app's server they were using.
  for (const close of closers.reverse()) await close();
  await browser?.close();
  await gw?.close();
});

/** A phone signed in as the worker (the demo sign-in), with the app ready and its service worker in control. */
async function phone(position = metersNorth(2_000), options: { persistent?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const settings = { ...PHONE, geolocation: { ...position, accuracy: 8 }, permissions: ['geolocation'] };
  let context: BrowserContext;
  if (options.persistent) {
    // A profile on disk, as a phone's browser has: Chromium offers to install apps only outside incognito.
    const profile = mkdtempSync(path.join(tmpdir(), 'civicloop-phone-'));
    const persistent = await chromium.launchPersistentContext(profile, { ...CHROMIUM, ...settings });
    closers.push(async () => {
      await persistent.close();
      rmSync(profile, { recursive: true, force: true });
    });
    context = persistent;
  } else {
    const incognito = await browser.newContext(settings);
    closers.push(() => incognito.close());
    context = incognito;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(appUrl);
  await page.waitForURL(/\/sign-in$/);
  await page.locator('button[value="w-phone"]').click();
  await page.locator('body[data-ready="true"]').waitFor();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return { context, page };
}

async function dispatchedJob(description: string): Promise<Ticket> {
  const photo = await server.media.upload(
    new Blob(
      [
        new Uint8Array(
          await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7a6a4f' } })
            .jpeg()
            .toBuffer(),
        ),
      ],
      { type: 'image/jpeg' },
    ),
    'bin.jpg',
  );
  const ticket = await server.tickets.create({ ...BIN_REPORT, description, location: { ...SITE, address: '天河路 385 号东门' }, photos: [{ ref: photo.ref }] });
  await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-phone' });
  return ticket;
}

/** A camera photo as phones write it: large, with EXIF (camera model, GPS) that must not leave the phone. */
async function cameraPhoto(): Promise<Buffer> {
  return sharp({ create: { width: 2400, height: 1800, channels: 3, background: '#3f7a4a' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'PhoneMaker', Model: 'Secret Model 7' } })
    .toBuffer();
}

const job = (page: Page, id: string) => page.locator(`#jobs button.job[data-ticket="${id}"]`);
const sectionOf = (page: Page, id: string) => job(page, id).locator('xpath=ancestor::section[@data-state]').getAttribute('data-state');
const eventTypes = async (id: string) => (await server.tickets.history(id)).map((e) => e.type);
/** The banner's newest line (it keeps a few, newest first). */
const latestNotice = (page: Page) => page.locator('#notice p').first().textContent();

describe('the worker app on a phone', { timeout: 120_000 }, () => {
  it('accepts, arrives and resolves with a camera photo while offline, and sends each once when back online', async () => {
    const ticket = await dispatchedJob('垃圾桶满溢，东门');
    const { context, page } = await phone();
    expect(await page.locator('#who').textContent()).toBe('李师傅 Li');
    await expect.poll(() => sectionOf(page, ticket.id)).toBe('dispatched');
    expect(await job(page, ticket.id).textContent()).toContain('垃圾桶满溢');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: new URL('worker-app-jobs.png', shots).pathname });

    // No network from here. The app opens all the same: its shell from the service worker, the
    // jobs as last read from IndexedDB.
    await context.setOffline(true);
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    expect(await page.locator('#net').getAttribute('data-state')).toBe('offline');
    await job(page, ticket.id).click();
    expect(await page.locator('#job-title').textContent()).toContain(ticket.number);
    expect(await page.locator('#job .place').textContent()).toBe('天河路 385 号东门');
    // The reporter's photo too: fetched while online, kept by the service worker.
    await expect.poll(() => page.locator('#job .photos img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(320);
    expect(await page.locator('#job a.button').first().getAttribute('href')).toBe(
      `geo:${SITE.lat},${SITE.lon}?q=${SITE.lat},${SITE.lon}(${encodeURIComponent(ticket.number)})`,
    );
    await page.locator('#job button[data-command="accept"]').click();
    await expect.poll(() => page.locator('#job .state').getAttribute('data-status')).toBe('accepted');
    await page.locator('#job button[data-command="arrive"]').click();
    await expect.poll(() => page.locator('#job .state').getAttribute('data-status')).toBe('on_site');

    // Resolve needs the after-photo: refused without one, then taken with the camera.
    await page.locator('#job button[data-command="resolve"]').click();
    expect(await page.locator('#job .problem').textContent()).toBe('办结需要一张处置后照片。');
    await page.locator('#job input[type="file"]').setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: await cameraPhoto() });
    await expect.poll(() => page.locator('#job img.preview').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1600);
    await page.locator('#job textarea[name="note"]').fill('已清运，桶周边已冲洗');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.locator('#job form.resolve').scrollIntoViewIfNeeded();
    await page.screenshot({ path: new URL('worker-app-resolve.png', shots).pathname });
    await page.locator('#job button[data-command="resolve"]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toBe('3 项操作待发送');
    const resolvedOnThePhoneBy = new Date().toISOString();
    expect(await page.locator('#job').isHidden()).toBe(true);
    expect(await job(page, ticket.id).count()).toBe(0);
    await page.screenshot({ path: new URL('worker-app-offline.png', shots).pathname });
    // Nothing reached the gateway while offline.
    expect((await server.tickets.get(ticket.id)).status).toBe('dispatched');

    // Closed and opened again while still offline: the actions are still on the phone.
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    expect(await page.locator('#outbox').textContent()).toBe('3 项操作待发送');

    // Back online: sent in order, once.
    const backOnlineAt = new Date().toISOString();
    await context.setOffline(false);
    await expect.poll(async () => (await server.tickets.get(ticket.id)).status, { timeout: 30_000 }).toBe('resolved');
    await expect.poll(() => page.locator('#outbox').isHidden()).toBe(true);
    const resolved = await server.tickets.get(ticket.id);
    expect(resolved.afterPhotos).toHaveLength(1);
    expect(await eventTypes(ticket.id)).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved']);
    const resolveEvent = (await server.tickets.history(ticket.id)).find((e) => e.type === 'resolved')!;
    expect(resolveEvent.note).toBe('已清运，桶周边已冲洗');
    // Each step is dated when it was taken on the phone, not when the gateway got it.
    for (const step of [resolved.acceptedAt!, resolved.arrivedAt!, resolved.resolvedAt!]) expect(step <= resolvedOnThePhoneBy).toBe(true);
    expect(resolveEvent.data?.occurredAt).toBe(resolved.resolvedAt);
    expect(resolveEvent.at >= backOnlineAt).toBe(true);
    // What was stored is the phone's recompressed JPEG: 1600 px on the long side, no EXIF.
    const stored = await fetch(server.media.url(resolved.afterPhotos[0]!));
    const meta = await sharp(Buffer.from(await stored.arrayBuffer())).metadata();
    expect({ width: meta.width, format: meta.format, exif: meta.exif }).toEqual({ width: 1600, format: 'jpeg', exif: undefined });

    // Opened again online: nothing is sent a second time.
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    expect(await page.locator('#outbox').isHidden()).toBe(true);
    expect(await eventTypes(ticket.id)).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved']);
  });

  it("is the worker's badge: checked in, suggested for a job nearby, told of it, and on site by itself", async () => {
    const { context, page } = await phone(metersNorth(400));
    await page.locator('#duty-toggle').click();
    // Checked in and placed 400 m away through the gateway's MQTT, like a badge.
    await expect.poll(async () => (await server.devices.state('phone-w-phone')).onDutySince, { timeout: 15_000 }).not.toBeNull();
    await expect.poll(async () => (await server.devices.state('phone-w-phone')).position !== null, { timeout: 15_000 }).toBe(true);
    expect(await page.locator('#duty [data-duty]').getAttribute('data-duty')).toBe('on-duty');
    const device = await server.devices.get('phone-w-phone');
    expect(device).toMatchObject({ kind: 'badge', staffId: 'w-phone', unitId: 'sanitation', skills: ['cleaning'] });

    const photo = await server.media.upload(
      new Blob(
        [
          new Uint8Array(
            await sharp({ create: { width: 200, height: 150, channels: 3, background: '#555' } })
              .jpeg()
              .toBuffer(),
          ),
        ],
        { type: 'image/jpeg' },
      ),
      'b.jpg',
    );
    const ticket = await server.tickets.create({ ...BIN_REPORT, description: '路边垃圾堆放', location: SITE, photos: [{ ref: photo.ref }] });
    const suggested = await server.tickets.nearestWorkers(ticket.id);
    expect(suggested.map((s) => s.staffId)).toEqual(['w-phone']);
    expect(suggested[0]!.distanceMeters).toBeGreaterThan(390);
    expect(suggested[0]!.distanceMeters).toBeLessThan(410);

    // From the dispatch (what notifies the worker) to closed.
    const started = Date.now();
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-phone' });
    await expect.poll(() => latestNotice(page), { timeout: 15_000 }).toBe(`新工单：垃圾桶满溢 ${ticket.number}`);
    await job(page, ticket.id).click();
    await page.locator('#job button[data-command="accept"]').click();
    await expect.poll(() => page.locator('#job .state').getAttribute('data-status')).toBe('accepted');
    // Once the gateway has the acceptance (the page shows it as soon as it is taken), the worker
    // walks to the site: the phone's position makes the gateway mark the arrival.
    await expect.poll(async () => (await server.tickets.get(ticket.id)).status).toBe('accepted');
    await context.setGeolocation({ ...metersNorth(5), accuracy: 5 });
    await expect.poll(async () => (await server.tickets.get(ticket.id)).status, { timeout: 15_000 }).toBe('on_site');
    const arrived = (await server.tickets.history(ticket.id)).find((e) => e.type === 'arrived')!;
    expect(arrived.data).toMatchObject({ automatic: true });
    // The app shows it without being asked: the resolve form is there.
    await page.locator('#job form.resolve').waitFor({ timeout: 15_000 });
    await page.locator('#job input[type="file"]').setInputFiles({ name: 'IMG_0002.jpg', mimeType: 'image/jpeg', buffer: await cameraPhoto() });
    await expect.poll(() => page.locator('#job img.preview').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1600);
    await page.locator('#job button[data-command="resolve"]').click();
    await expect.poll(async () => (await server.tickets.get(ticket.id)).status, { timeout: 15_000 }).toBe('resolved');
    await server.tickets.verify(ticket.id, { outcome: 'pass' });
    const seconds = (Date.now() - started) / 1000;
    expect((await server.tickets.get(ticket.id)).status).toBe('closed');
    expect(await eventTypes(ticket.id)).toEqual(['reported', 'dispatched', 'accepted', 'arrived', 'resolved', 'verified']);
    // The figure for docs/worker-app.md (a script's taps; a person reads and walks too).
    console.log(`worker app: dispatch to closed in ${seconds.toFixed(1)} s, 4 taps on the phone (open, accept, photo, resolve)`);

    // Checked out: the badge says so and the gateway no longer counts the worker on duty.
    await page.locator('#duty-toggle').click();
    await expect.poll(async () => (await server.devices.state('phone-w-phone')).onDutySince, { timeout: 15_000 }).toBeNull();
  });
});

describe('the worker app when a job is taken from the worker', { timeout: 120_000 }, () => {
  beforeAll(() => server.staff.create({ id: 'w-colleague', name: '陈工 Chen', role: 'worker', unitId: 'sanitation' }));

  it('says so, whoever took it and how, and an open job goes back to the list', async () => {
    const [reassigned, returned, merged] = [
      await dispatchedJob('东门垃圾桶满溢'),
      await dispatchedJob('西门垃圾桶满溢'),
      await dispatchedJob('南门垃圾桶满溢'),
    ];
    const into = await server.tickets.create({ ...BIN_REPORT, location: SITE });
    const { page } = await phone();
    for (const ticket of [reassigned, returned, merged]) await job(page, ticket.id).waitFor();
    // The worker has the first job open when a dispatcher gives it to a colleague.
    await job(page, reassigned.id).click();
    expect(await page.locator('#job-title').textContent()).toContain(reassigned.number);
    await server.tickets.reassign(reassigned.id, { unitId: 'sanitation', assigneeId: 'w-colleague' });
    await expect.poll(() => latestNotice(page), { timeout: 15_000 }).toBe(`垃圾桶满溢 ${reassigned.number} 已改派他人，无需前往`);
    expect(await page.locator('#job').isHidden()).toBe(true);
    expect(await job(page, reassigned.id).count()).toBe(0);
    // Returned by a dispatcher, merged into another report: said the same way.
    await server.tickets.return(returned.id, { reason: 'Private yard: the property manager deals with it' });
    await expect.poll(() => latestNotice(page), { timeout: 15_000 }).toBe(`垃圾桶满溢 ${returned.number} 已退回调度，无需前往`);
    await server.tickets.merge(merged.id, { into: into.id });
    await expect.poll(() => latestNotice(page), { timeout: 15_000 }).toBe(`垃圾桶满溢 ${merged.number} 已并入其他工单，无需前往`);
    for (const ticket of [returned, merged]) await expect.poll(() => job(page, ticket.id).count()).toBe(0);
  });

  it('says so when the app opens again after it was taken while the app was closed, once', async () => {
    const [reassigned, merged, kept, returnedByMe] = [
      await dispatchedJob('北门垃圾桶满溢'),
      await dispatchedJob('公交站垃圾桶满溢'),
      await dispatchedJob('报刊亭垃圾桶满溢'),
      await dispatchedJob('花坛垃圾桶满溢'),
    ];
    const into = await server.tickets.create({ ...BIN_REPORT, location: SITE });
    const { context, page } = await phone();
    for (const ticket of [reassigned, merged, kept, returnedByMe]) await job(page, ticket.id).waitFor();
    await page.close();
    // While the app is closed: two jobs taken by a dispatcher; one the worker returned from another
    // phone (their own doing, which they know of).
    await server.tickets.reassign(reassigned.id, { unitId: 'sanitation', assigneeId: 'w-colleague' });
    await server.tickets.merge(merged.id, { into: into.id });
    const elsewhere = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-phone', 'worker', { unitId: 'sanitation' }),
    });
    await elsewhere.tickets.return(returnedByMe.id, { reason: 'Private yard: the property manager deals with it' });

    const again = await context.newPage();
    await again.goto(appUrl);
    await again.locator('body[data-ready="true"]').waitFor();
    await job(again, kept.id).waitFor();
    await expect
      .poll(async () => (await again.locator('#notice p').allTextContents()).sort(), { timeout: 15_000 })
      .toEqual([`垃圾桶满溢 ${merged.number} 已并入其他工单，无需前往`, `垃圾桶满溢 ${reassigned.number} 已改派他人，无需前往`].sort());
    for (const ticket of [reassigned, merged, returnedByMe]) expect(await job(again, ticket.id).count()).toBe(0);

    // Taken while the app is open: said at once, and kept so.
    await server.tickets.reassign(kept.id, { unitId: 'sanitation', assigneeId: 'w-colleague' });
    await expect.poll(() => latestNotice(again), { timeout: 15_000 }).toBe(`垃圾桶满溢 ${kept.number} 已改派他人，无需前往`);

    // Said once: opened again, the app compares what it kept with the gateway's list and has nothing to say.
    await again.reload();
    await again.waitForFunction(() => performance.getEntriesByName('worker-app-kept-jobs-compared').length > 0);
    expect(await again.locator('#notice').isHidden()).toBe(true);
  });
});

describe('the worker app as an app', { timeout: 120_000 }, () => {
  it('is installable, speaks English on request, and says plainly when the gateway refuses what was done offline', async () => {
    const { context, page } = await phone(undefined, { persistent: true });
    // Chromium's own installability check: manifest, icons, service worker.
    const cdp = await context.newCDPSession(page);
    expect(((await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] }).installabilityErrors).toEqual([]);

    await page.locator('#lang').click();
    expect(await page.locator('#title').textContent()).toBe('My jobs');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');

    // Accepted offline, but meanwhile the dispatcher gave the job to someone else.
    const ticket = await dispatchedJob('Bags left by the kiosk');
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    await context.setOffline(true);
    await job(page, ticket.id).click();
    await page.locator('#job button[data-command="accept"]').click();
    await page.locator('#job button[data-command="arrive"]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toBe('2 actions waiting to be sent');
    await server.tickets.reassign(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await context.setOffline(false);
    await expect
      .poll(() => page.locator('#notice p').allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringMatching(new RegExp(`^${ticket.number}: Not accepted: .*\\(CL_ERR_FORBIDDEN\\)$`)));
    // And that the job went to someone else: by the stream's replay or, when the list came back
    // first and dropped the job, by the job's history.
    await expect
      .poll(() => page.locator('#notice p').allTextContents(), { timeout: 15_000 })
      .toContainEqual(`Overflowing bin ${ticket.number} went to someone else: no need to go`);
    await expect.poll(() => page.locator('#outbox').isHidden()).toBe(true);
    // Nothing was done in the worker's name, and the job is no longer on their phone.
    expect(await eventTypes(ticket.id)).toEqual(['reported', 'dispatched', 'reassigned']);
    await expect.poll(() => job(page, ticket.id).count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);

    // A job of theirs, overdue (dispatched two days ago by the gateway's clock), chased by its
    // reporter: the worker is told on the spot.
    const realNow = gw.services.now;
    gw.services.now = () => new Date(Date.now() - 48 * 3_600_000);
    let late: Ticket;
    try {
      late = await dispatchedJob('Bin by the school gate');
    } finally {
      gw.services.now = realNow;
    }
    await expect.poll(() => latestNotice(page)).toBe(`New job: Overflowing bin ${late.number}`);
    await server.tickets.urge(late.id);
    await expect.poll(() => latestNotice(page)).toBe(`Chased by the reporter: Overflowing bin ${late.number}`);
  });

  it('works a job from a phone that opens the app over plain HTTP at an intranet name: no service worker, no crypto.randomUUID', async () => {
    // Browsers count 127.0.0.1 and localhost as secure; the app at an intranet name over plain
    // HTTP is not (the name resolves to this machine, as the app's server would be on the intranet).
    const intranet = `http://worker-app.test:${new URL(appUrl).port}`;
    const intranetBrowser = await launchChromium(['--host-resolver-rules=MAP worker-app.test 127.0.0.1']);
    const { policy } = (await gw.services.tenants.context(gw.tenant.id))!.tenant;
    await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [...policy.allowedOrigins, intranet] });
    try {
      const ticket = await dispatchedJob('垃圾桶满溢，北门');
      const page = await (await intranetBrowser.newContext({ ...PHONE })).newPage();
      await page.goto(`${intranet}/`);
      await page.waitForURL(/\/sign-in$/);
      await page.locator('button[value="w-phone"]').click();
      await page.locator('body[data-ready="true"]').waitFor();
      expect(await page.evaluate(() => [isSecureContext, 'serviceWorker' in navigator, typeof crypto.randomUUID])).toEqual([false, false, 'undefined']);
      await expect.poll(() => sectionOf(page, ticket.id)).toBe('dispatched');
      await job(page, ticket.id).click();
      await page.locator('#job button[data-command="accept"]').click();
      await expect.poll(() => page.locator('#job .state').getAttribute('data-status')).toBe('accepted');
      await expect.poll(() => eventTypes(ticket.id)).toContain('accepted');
      expect((await server.tickets.get(ticket.id)).status).toBe('accepted');
    } finally {
      await intranetBrowser.close();
      await gw.services.tenants.updatePolicy(gw.tenant.id, {
        allowedOrigins: (await gw.services.tenants.context(gw.tenant.id))!.tenant.policy.allowedOrigins.filter((o) => o !== intranet),
      });
    }
  });
});
