import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import sharp from 'sharp';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop } from '@civicloop/sdk';
import { signToken, type Ticket } from '@civicloop/model';
import { api, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { accessibilityViolations, CSP_RECORDER, launchChromium, send, serveHost, violations } from '@civicloop/test-support/browser.js';
import { chooseCategory } from '@civicloop/test-support/widget.js';

// Real Chromium against the real gateway, the widget as shipped (dist/, built by npm test).
const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const artifacts = path.join(here, '..', '..', '..', 'test-artifacts');
const ESTATE = { lat: 23.1335, lon: 113.3242 };
const RESIDENT = 'resident-1001';

let gw: TestGateway;
let browser: Browser;
let host: Awaited<ReturnType<typeof serveHost>>;
let context: BrowserContext | undefined;
let photo: Buffer;

const secret = () => new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
const staff = async (sub: string, role: 'dispatcher' | 'worker' | 'supervisor', unitId?: string) =>
  new CivicLoop({
    baseUrl: gw.url,
    apiKey: gw.tenant.publishableKey,
    token: await signToken({ secretKey: gw.tenant.secretKey, sub, role, ...(unitId ? { unitId } : {}) }),
  });

/** The portal page: a strict CSP meta tag, the violation recorder, and the one-line embed. */
function portal(
  options: {
    lang?: string;
    data?: Record<string, string>;
    module?: boolean /** More CSP directives or sources. */;
    scriptSrc?: string;
    extraCsp?: string /** The embed itself, instead of the loader or the npm import. */;
    embed?: string;
  } = {},
): string {
  const csp =
    `default-src 'none'; script-src 'self' ${gw.url}${options.scriptSrc ? ` ${options.scriptSrc}` : ''}; connect-src 'self' ${gw.url}; ` +
    `img-src ${gw.url} blob:; style-src 'self'; base-uri 'none'; form-action 'none'${options.extraCsp ? `; ${options.extraCsp}` : ''}`;
  const data = { 'publishable-key': gw.tenant.publishableKey, 'default-location': `${ESTATE.lat},${ESTATE.lon}`, 'token-url': '/token', ...options.data };
  const embed =
    options.embed ??
    (options.module
      ? `<civicloop-report ${Object.entries({ ...data, gateway: gw.url })
          .map(([k, v]) => `${k}="${v}"`)
          .join(' ')}></civicloop-report><script type="module" src="/app.js"></script>`
      : `<script src="${gw.url}/widget/loader.js" ${Object.entries(data)
          .map(([k, v]) => `data-${k}="${v}"`)
          .join(' ')} async></script>`);
  return `<!doctype html><html${options.lang ? ` lang="${options.lang}"` : ''}><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/csp.js"></script><title>Sunny Gardens</title></head>
<body><h1>Sunny Gardens residents</h1>${embed}</body></html>`;
}

async function open(html: string, options: BrowserContextOptions = {}): Promise<Page> {
  pageHtml = html;
  context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(host.url);
  return page;
}
let pageHtml = '';
let signedIn: string | null = RESIDENT;
let tokenRequests = 0;

const shadow = (page: Page) => page.locator('civicloop-report');
/** The resident starts a report (focus in the form): only then is the location asked for. */
const startReport = (page: Page) => shadow(page).locator('input[type="search"]').first().focus();
const announcer = (page: Page) => shadow(page).locator('[part="announcer"]');

async function fillReport(page: Page, description: string) {
  await chooseCategory(page, 'sanitation.bin_overflow');
  await page.getByLabel('What is the problem?').fill(description);
}

/** The number the widget says it sent the report under, once it says so. */
async function sentNumber(outcome: Locator): Promise<string> {
  await expect.poll(() => outcome.textContent()).toMatch(/Sent: report number/);
  return /([A-Z0-9]+-\d{8}-\d{4})/.exec((await outcome.textContent()) ?? '')![1]!;
}

async function ticketByNumber(number: string): Promise<Ticket> {
  return secret().tickets.getByNumber(number);
}

async function countByText(text: string): Promise<number> {
  return (await secret().tickets.list({ q: text }).toArray()).length;
}

beforeAll(async () => {
  if (!existsSync(path.join(dist, 'civicloop-widget.js'))) throw new Error('packages/widget/dist is missing: run npm run build first (npm test does).');
  gw = await startTestGateway();
  browser = await launchChromium();
  photo = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#6a9' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'PhoneCo', Model: 'Camera 9' }, IFD3: { GPSLatitudeRef: 'N' } })
    .toBuffer();
  const app = await build({
    stdin: { contents: "import '@civicloop/widget';", resolveDir: here, loader: 'ts' },
    bundle: true,
    format: 'esm',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  host = await serveHost({
    '/': (_request, response) => send('text/html; charset=utf-8', pageHtml)(_request, response),
    '/csp.js': send('text/javascript', CSP_RECORDER),
    '/app.js': send('text/javascript', Buffer.from(app.outputFiles[0]!.contents)),
    // The host platform signs its logged-in resident's identity on its own server.
    // Whoever is signed in on the portal right now (null: nobody, the session ended).
    '/token': async (_request, response) => {
      tokenRequests++;
      if (!signedIn) {
        response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not signed in' }));
        return;
      }
      const token = await signToken({ secretKey: gw.tenant.secretKey, sub: signedIn, role: 'citizen', ttlSeconds: 600 });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    },
  });
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [host.origin] });
}, 120_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
  signedIn = RESIDENT;
});

/** The widget's offline queue in this browser: who each queued report belongs to. */
const queuedOwners = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        const request = indexedDB.open('civicloop-widget');
        request.onsuccess = () => {
          const all = request.result.transaction('outbox').objectStore('outbox').getAll();
          all.onsuccess = () => resolve((all.result as { owner: string }[]).map((item) => item.owner));
        };
      }),
  );

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await gw?.close();
});

describe('<civicloop-report> in Chromium against the real gateway', { timeout: 60_000 }, () => {
  it('files a report with geolocation and a photo: the ticket has the photo (EXIF gone, 1600 px), the location and the resident', async () => {
    const page = await open(portal({ lang: 'en' }), { permissions: ['geolocation'], geolocation: { latitude: 23.1291, longitude: 113.2644, accuracy: 12 } });
    await startReport(page);
    await expect.poll(() => shadow(page).getByText('Located (within about 12 m)').count()).toBe(1);
    await fillReport(page, 'Bin overflowing by gate 2');
    await page.getByLabel('Photos (up to 3)').setInputFiles({ name: 'bin.jpg', mimeType: 'image/jpeg', buffer: photo });
    await expect.poll(() => shadow(page).locator('.thumbs img').count()).toBe(1);
    // The upload's progress as it is said while the photo goes up, collected as it changes.
    await page.evaluate(() => {
      const root = document.querySelector('civicloop-report')!.shadowRoot!;
      const said: string[] = [];
      (window as unknown as { progressSaid: string[] }).progressSaid = said;
      new MutationObserver(() => {
        const label = root.querySelector('[part="progress"]')?.getAttribute('aria-label');
        if (label && said.at(-1) !== label) said.push(label);
      }).observe(root, { subtree: true, attributes: true, attributeFilter: ['aria-label'] });
    });
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = shadow(page).locator('[part="outcome"]');
    const number = await sentNumber(outcome);
    expect(await page.evaluate(() => (window as unknown as { progressSaid: string[] }).progressSaid)).toEqual([
      'Uploading photo 1 of 1…',
      'Photos uploaded (1), sending the report…',
    ]);

    const ticket = await ticketByNumber(number);
    expect(ticket).toMatchObject({
      category: 'sanitation.bin_overflow',
      channel: 'widget',
      description: 'Bin overflowing by gate 2',
      reporter: { sub: RESIDENT, role: 'citizen' },
    });
    expect(ticket.location).toMatchObject({ lat: 23.1291, lon: 113.2644, accuracy: 12 });
    expect(ticket.photos).toHaveLength(1);
    const stored = Buffer.from(await (await fetch(new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey }).media.url(ticket.photos[0]!))).arrayBuffer());
    const meta = await sharp(stored).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBe(1600);
    expect(meta.exif).toBeUndefined();
    expect(await violations(page)).toEqual([]);
  });

  it('sends a HEIC photo the browser cannot draw as it is; the gateway stores it as a JPEG without EXIF', async () => {
    const heic = readFileSync(path.join(here, '..', '..', 'gateway', 'src', 'media', 'fixtures', 'phone-photo.heic'));
    const page = await open(portal({ lang: 'en' }), { permissions: ['geolocation'], geolocation: { latitude: 23.1291, longitude: 113.2644, accuracy: 12 } });
    await fillReport(page, 'Photo straight from an iPhone');
    await page.getByLabel('Photos (up to 3)').setInputFiles({ name: 'IMG_0042.HEIC', mimeType: 'image/heic', buffer: heic });
    await expect.poll(() => shadow(page).locator('.thumbs .file').textContent()).toBe('IMG_0042.HEIC');
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = shadow(page).locator('[part="outcome"]');
    const ticket = await ticketByNumber(await sentNumber(outcome));
    const stored = Buffer.from(await (await fetch(secret().media.url(ticket.photos[0]!))).arrayBuffer());
    const meta = await sharp(stored).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['jpeg', 1024, 768, undefined]);
    expect(await violations(page)).toEqual([]);
  });

  it('falls back to the address and the estate location when geolocation is denied', async () => {
    const page = await open(portal({ lang: 'en' }), { permissions: [] });
    await startReport(page);
    await expect.poll(() => shadow(page).getByText('Your location is not available; enter the address.').count()).toBe(1);
    await fillReport(page, 'Bin overflowing, no GPS');
    await page.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => shadow(page).locator('[part="error"]').textContent()).toBe('A location or an address is needed.');
    await page.getByLabel('Address').fill('Building 3, entrance 2');
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = shadow(page).locator('[part="outcome"]');
    const ticket = await ticketByNumber(await sentNumber(outcome));
    expect(ticket.location).toEqual({ ...ESTATE, accuracy: 500, address: 'Building 3, entrance 2' });
    expect(await violations(page)).toEqual([]);
  });

  it('files a report from a portal served over plain HTTP at an intranet name, where the browser has no crypto.randomUUID', async () => {
    // Browsers count 127.0.0.1 and localhost as secure; a portal at an intranet name (or address)
    // over plain HTTP is not. Here the name resolves to this machine, so the page and the gateway
    // share an address space, as a portal and a gateway on one intranet do.
    const intranet = `http://portal.test:${new URL(host.origin).port}`;
    const intranetBrowser = await launchChromium(['--host-resolver-rules=MAP portal.test 127.0.0.1']);
    await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [host.origin, intranet] });
    try {
      pageHtml = portal({ lang: 'en' });
      const page = await (await intranetBrowser.newContext({ permissions: [] })).newPage();
      await page.goto(`${intranet}/`);
      expect(await page.evaluate(() => [isSecureContext, typeof crypto.randomUUID, typeof crypto.getRandomValues])).toEqual([false, 'undefined', 'function']);
      await startReport(page);
      await fillReport(page, 'Bin overflowing, portal on plain HTTP');
      await page.getByLabel('Address').fill('Building 5, entrance 1');
      await page.getByRole('button', { name: 'Send report' }).click();
      const outcome = shadow(page).locator('[part="outcome"]');
      const ticket = await ticketByNumber(await sentNumber(outcome));
      expect(ticket).toMatchObject({ description: 'Bin overflowing, portal on plain HTTP', reporter: { sub: RESIDENT } });
      expect(await violations(page)).toEqual([]);
    } finally {
      await intranetBrowser.close();
      await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [host.origin] });
    }
  });

  it('says its fix is WGS-84, so a tenant whose maps are GCJ-02 stores it unmoved; an estate point marked gcj02 is converted', async () => {
    await api(gw.url, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { defaultCrs: 'gcj02' } });
    try {
      const located = await open(portal({ lang: 'en' }), {
        permissions: ['geolocation'],
        geolocation: { latitude: 23.1291, longitude: 113.2644, accuracy: 9 },
      });
      await startReport(located);
      await expect.poll(() => shadow(located).getByText('Located (within about 9 m)').count()).toBe(1);
      await fillReport(located, 'Bin by the metro exit');
      await located.getByRole('button', { name: 'Send report' }).click();
      const outcome = shadow(located).locator('[part="outcome"]');
      const fromGps = await ticketByNumber(await sentNumber(outcome));
      // Read as GCJ-02 it would have moved ~600 m; the widget said wgs84, so it did not.
      expect(fromGps.location).toMatchObject({ lat: 23.1291, lon: 113.2644, accuracy: 9 });
      expect(fromGps.reportedLocation).toBeUndefined();
      await context?.close();
      context = undefined;

      // The estate's point read off an AMap page, marked so; no GPS, so the report lands there.
      const gcjEstate = { lat: 23.126423, lon: 113.26973 };
      const denied = await open(portal({ lang: 'en', data: { 'default-location': `${gcjEstate.lat},${gcjEstate.lon},gcj02` } }), { permissions: [] });
      await startReport(denied);
      await expect.poll(() => shadow(denied).getByText('Your location is not available; enter the address.').count()).toBe(1);
      await fillReport(denied, 'Bin by the estate gate');
      await denied.getByLabel('Address').fill('Gate 1');
      await denied.getByRole('button', { name: 'Send report' }).click();
      const deniedOutcome = shadow(denied).locator('[part="outcome"]');
      const fromEstate = await ticketByNumber(await sentNumber(deniedOutcome));
      expect(fromEstate.reportedLocation).toEqual({ ...gcjEstate, crs: 'gcj02' });
      expect(fromEstate.location.lat).toBeCloseTo(23.1291, 3);
      expect(fromEstate.location.lon).toBeCloseTo(113.2644, 3);
      expect(await violations(denied)).toEqual([]);
    } finally {
      await api(gw.url, 'PATCH', '/v1/tenant/policy', { auth: gw.tenant.secretKey, body: { defaultCrs: 'wgs84' } });
    }
  });

  it('queues a report made offline in IndexedDB and sends it exactly once when back online', async () => {
    const description = `Offline report ${Date.now()}`;
    const page = await open(portal({ lang: 'en' }), { permissions: ['geolocation'], geolocation: { latitude: 23.13, longitude: 113.32, accuracy: 20 } });
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await fillReport(page, description);
    await page.getByLabel('Photos (up to 3)').setInputFiles({ name: 'bin.jpg', mimeType: 'image/jpeg', buffer: photo });
    await expect.poll(() => shadow(page).locator('.thumbs img').count()).toBe(1);
    await context!.setOffline(true);
    await page.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toMatch(/You are offline/);
    const queued = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const request = indexedDB.open('civicloop-widget');
          request.onsuccess = () => {
            const count = request.result.transaction('outbox').objectStore('outbox').count();
            count.onsuccess = () => resolve(count.result);
          };
        }),
    );
    expect(queued).toBe(1);
    expect(await countByText(description)).toBe(0);

    await context!.setOffline(false);
    await expect.poll(() => announcer(page).textContent(), { timeout: 20_000 }).toMatch(/Your saved report was sent: number/);
    // Another online event and a reload: the queue is empty, nothing is sent again.
    await page.evaluate(() => dispatchEvent(new Event('online')));
    await page.reload();
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    expect(await countByText(description)).toBe(1);
    const [ticket] = await secret().tickets.list({ q: description }).toArray();
    expect(ticket!.photos).toHaveLength(1);
    expect(await violations(page)).toEqual([]);
  });

  it('never files a report one resident wrote before their session ended under the next resident who signs in on that browser', async () => {
    const alice = `resident-alice-${Date.now()}`;
    const bob = `resident-bob-${Date.now()}`;
    const mine = async (sub: string) =>
      (
        await new CivicLoop({
          baseUrl: gw.url,
          apiKey: gw.tenant.publishableKey,
          token: await signToken({ secretKey: gw.tenant.secretKey, sub, role: 'citizen' }),
        }).tickets
          .list()
          .toArray()
      ).map((t) => t.description);
    const geo = { permissions: ['geolocation'], geolocation: { latitude: 23.13, longitude: 113.32, accuracy: 20 } };
    // Alice is signed in, writes a report, and the network drops as she sends it.
    signedIn = alice;
    tokenRequests = 0;
    const page = await open(portal({ lang: 'en' }), geo);
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await expect.poll(() => tokenRequests).toBeGreaterThan(0);
    await fillReport(page, 'Alice: stair light out');
    await context!.setOffline(true);
    await page.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toMatch(/You are offline/);
    expect(await queuedOwners(page)).toEqual([`${gw.tenant.id}|${alice}`]);

    // Her session ends; Bob signs in on the same browser and the network is back.
    signedIn = bob;
    await context!.setOffline(false);
    await page.reload();
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await page.evaluate(() => (document.querySelector('civicloop-report') as unknown as { flush(): Promise<void> }).flush());
    expect(await mine(bob)).toEqual([]);
    expect(await countByText('Alice: stair light out')).toBe(0);
    expect(await queuedOwners(page)).toEqual([`${gw.tenant.id}|${alice}`]);

    // Nobody signed in: a report asks for a sign-in, is not queued as "offline", and stays in the form.
    signedIn = null;
    await page.reload();
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await fillReport(page, 'Written while signed out');
    const signInAsked = page.evaluate(
      () =>
        new Promise<string>((resolve) =>
          document.addEventListener('civicloop-signin-required', (e) => resolve((e as CustomEvent<{ message: string }>).detail.message), { once: true }),
        ),
    );
    await page.getByRole('button', { name: 'Send report' }).click();
    expect(await signInAsked).toMatch(/sign in again/);
    await expect.poll(() => shadow(page).locator('[part="error"]').textContent()).toMatch(/Your session has ended/);
    expect(await page.getByLabel('What is the problem?').inputValue()).toBe('Written while signed out');
    expect(await queuedOwners(page)).toEqual([`${gw.tenant.id}|${alice}`]);
    expect(await countByText('Written while signed out')).toBe(0);

    // Alice signs in again: her report goes out, under her name, once.
    signedIn = alice;
    await page.reload();
    await expect.poll(() => announcer(page).textContent(), { timeout: 20_000 }).toMatch(/Your saved report was sent: number/);
    expect(await mine(alice)).toEqual(['Alice: stair light out']);
    expect(await mine(bob)).toEqual([]);
    expect(await queuedOwners(page)).toEqual([]);
  });

  it('shows my reports, a status change pushed live, then the rating after close', async () => {
    const resident = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: RESIDENT, role: 'citizen' }),
    });
    const ticket = await resident.tickets.create({ category: 'sanitation.bin_overflow', description: 'Follow me live', location: ESTATE });
    const page = await open(portal({ lang: 'en' }));
    await page.getByRole('tab', { name: 'My reports' }).click();
    const card = shadow(page).locator(`[data-ticket="${ticket.id}"]`);
    await expect.poll(() => card.locator('[part="status"]').textContent()).toBe('Reported');

    const dispatcher = await staff('d-1', 'dispatcher');
    const worker = await staff('w-1', 'worker', 'sanitation');
    const supervisor = await staff('s-1', 'supervisor');
    await dispatcher.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await expect.poll(() => shadow(page).locator(`[data-ticket="${ticket.id}"] [part="status"]`).textContent()).toBe('Dispatched');
    await expect.poll(() => announcer(page).textContent()).toBe(`Report ${ticket.number}: Dispatched`);

    const after = await worker.media.upload(new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'after.jpg');
    await worker.tickets.accept(ticket.id);
    await worker.tickets.arrive(ticket.id);
    await worker.tickets.resolve(ticket.id, { photos: [{ ref: after.ref }] });
    await supervisor.tickets.verify(ticket.id, { outcome: 'pass' });
    const live = shadow(page).locator(`[data-ticket="${ticket.id}"]`);
    await expect.poll(() => live.locator('[part="status"]').textContent()).toBe('Closed');
    await expect.poll(() => live.locator('.timeline li.reached').count()).toBe(5);
    // The after-photo of the resident's own ticket comes with a link signed for them (the ticket is not published).
    expect(await live.locator('img').getAttribute('src')).toMatch(new RegExp(`^${gw.url}/v1/media/${after.ref.slice('media:'.length)}\\?exp=\\d+&sig=`));
    await expect.poll(() => live.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

    await live.getByLabel('5 out of 5').check();
    await live.getByLabel('Comment (optional)').fill('Quick and tidy');
    await live.getByRole('button', { name: 'Send rating' }).click();
    await expect.poll(() => announcer(page).textContent()).toBe('Thank you for your rating.');
    expect((await secret().tickets.get(ticket.id)).feedback).toMatchObject({ rating: 5, comment: 'Quick and tidy', by: { sub: RESIDENT } });
    // The card keeps what the resident said, and the worker's note.
    await expect.poll(() => live.locator('[part="your-rating"]').textContent()).toBe('Your rating: 5 out of 5：Quick and tidy');
    expect(await live.locator('[part="description"]').textContent()).toBe('Follow me live');

    // Unsatisfied: under the tenant's rule (default: 2 or less reopens) a low rating sends it back.
    const second = await resident.tickets.create({ category: 'sanitation.bin_overflow', description: 'Not fixed properly', location: ESTATE });
    await dispatcher.tickets.dispatch(second.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    await worker.tickets.accept(second.id);
    await worker.tickets.arrive(second.id);
    await worker.tickets.resolve(second.id, { photos: [{ ref: after.ref }] });
    await supervisor.tickets.verify(second.id, { outcome: 'pass' });
    const unhappy = shadow(page).locator(`[data-ticket="${second.id}"]`);
    await expect.poll(() => unhappy.getByText('A rating of 2 or less sends it back for more work.').count()).toBe(1);
    await unhappy.getByLabel('1 out of 5').check();
    await unhappy.getByRole('button', { name: 'Send rating' }).click();
    await expect.poll(() => unhappy.locator('[part="status"]').textContent()).toBe('Dispatched');
    expect((await secret().tickets.get(second.id)).reopenCount).toBe(1);
    expect(await violations(page)).toEqual([]);
  });

  it('gives a browser without a host login an anonymous identity: its reports are listed there and in no other browser', async () => {
    const anonymousPage = portal({ lang: 'en', data: { 'token-url': '' } });
    const page = await open(anonymousPage, { permissions: [] });
    await fillReport(page, 'Reported without an account');
    await page.getByLabel('Address').fill('Bus stop by the east gate');
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = shadow(page).locator('[part="outcome"]');
    const number = await sentNumber(outcome);
    expect((await ticketByNumber(number)).reporter.sub).toMatch(/^anon:/);
    await page.reload();
    await page.getByRole('tab', { name: 'My reports' }).click();
    await expect.poll(() => shadow(page).locator('[part="ticket"] h3').allTextContents()).toEqual([`Overflowing bin · ${number}`]);
    expect(await violations(page)).toEqual([]);
    await context!.close();

    // Another browser: no identity yet, so nothing to list (and no identity is made just to look).
    const other = await open(anonymousPage, { permissions: [] });
    await other.getByRole('tab', { name: 'My reports' }).click();
    await expect.poll(() => shadow(other).getByText('No reports yet.').count()).toBe(1);
    expect(await other.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('civicloop:resident:')))).toEqual([]);
  });

  it('completes a report with the keyboard only (npm import), on a phone-sized screen', async () => {
    const page = await open(portal({ lang: 'en', module: true }), {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      permissions: ['geolocation'],
      geolocation: { latitude: 23.1291, longitude: 113.2644, accuracy: 8 },
    });
    await startReport(page);
    await expect
      .poll(() =>
        shadow(page)
          .getByText(/Located/)
          .count(),
      )
      .toBe(1);
    await expect.poll(() => shadow(page).locator('input[name="category"]').count()).toBeGreaterThan(40);
    // Tab until the named control has focus; everything below is key presses.
    const focused = () =>
      page.evaluate(() => {
        const active = document.querySelector('civicloop-report')!.shadowRoot!.activeElement as HTMLInputElement | null;
        return active ? (active.labels?.[0]?.textContent ?? active.textContent ?? '') : '';
      });
    const tabTo = async (label: string) => {
      for (let i = 0; i < 25 && (await focused()) !== label; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(label);
    };
    await tabTo('Search problem types');
    await page.keyboard.type('overflow');
    // The search opens the group it matches; the one type left is the next stop, chosen with Space.
    await tabTo('Overflowing bin');
    await page.keyboard.press('Space');
    // The label's text carries the required mark.
    await tabTo('What is the problem? *');
    await page.keyboard.type('Typed without a mouse');
    await tabTo('Send report');
    await page.keyboard.press('Enter');
    const outcome = shadow(page).locator('[part="outcome"]');
    const ticket = await ticketByNumber(await sentNumber(outcome));
    expect(ticket).toMatchObject({ category: 'sanitation.bin_overflow', description: 'Typed without a mouse' });
    expect(await page.evaluate(() => document.querySelector('civicloop-report')!.shadowRoot!.activeElement?.getAttribute('part'))).toBe('outcome');
    mkdirSync(artifacts, { recursive: true });
    await page.getByRole('button', { name: 'Report another problem' }).focus();
    await page.screenshot({ path: path.join(artifacts, 'widget-mobile-submitted.png'), fullPage: true });
    await page.keyboard.press('Enter');
    await page.screenshot({ path: path.join(artifacts, 'widget-mobile-form.png'), fullPage: true });
    expect(await violations(page)).toEqual([]);
  });

  it('refuses bad photos in the widget with a clear message and stores nothing', async () => {
    const tenant = await gw.createTenant('BAD');
    await gw.services.tenants.updatePolicy(tenant.id, { allowedOrigins: [host.origin] });
    const page = await open(portal({ lang: 'en', data: { 'publishable-key': tenant.publishableKey, 'token-url': '' } }), { permissions: [] });
    const input = page.getByLabel('Photos (up to 3)');
    const error = shadow(page).locator('[part="photo-error"]');
    await input.setInputFiles({ name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are my notes, not a photo\n'.repeat(40)) });
    await expect.poll(() => error.textContent()).toBe('notes.jpg: This is not a photo (JPEG, PNG, WebP or HEIC).');
    const huge = Buffer.concat([photo, Buffer.alloc(20 * 1024 * 1024 - photo.length)]);
    await input.setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: huge });
    await expect.poll(() => error.textContent()).toBe('huge.jpg: The photo is larger than 10 MB; choose another.');
    await input.setInputFiles({ name: 'cut.jpg', mimeType: 'image/jpeg', buffer: photo.subarray(0, Math.floor(photo.length / 2)) });
    await expect.poll(() => error.textContent()).toBe('cut.jpg: The photo file is incomplete (maybe damaged); take it again.');
    expect(await shadow(page).locator('.thumbs img').count()).toBe(0);
    const mediaDir = path.join(gw.config.dataDir, 'media', tenant.id);
    expect(existsSync(mediaDir) ? readdirSync(mediaDir) : []).toEqual([]);
    const listed = await api(gw.url, 'GET', '/v1/tickets', { auth: tenant.secretKey });
    expect(listed.body.items).toEqual([]);
    expect(await violations(page)).toEqual([]);
  });

  it('opens as a floating button in zh-CN by default: a modal dialog that keeps focus and gives it back', async () => {
    const page = await open(portal({ data: { mode: 'floating' } }));
    const launcher = page.getByRole('button', { name: '随手拍 · 报事' });
    await launcher.click();
    const dialog = shadow(page).locator('dialog');
    await expect.poll(() => dialog.evaluate((d: HTMLDialogElement) => d.open && d.matches(':modal'))).toBe(true);
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const inside = await page.evaluate(() => {
        const root = document.querySelector('civicloop-report')!.shadowRoot!;
        const active = root.activeElement;
        // Focus may rest on the browser's own UI between cycles; it never lands on the page.
        return active
          ? root.querySelector('dialog')!.contains(active)
          : document.activeElement === document.body || document.activeElement?.tagName === 'CIVICLOOP-REPORT';
      });
      expect(inside).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.evaluate((d: HTMLDialogElement) => d.open)).toBe(false);
    expect(await page.evaluate(() => document.querySelector('civicloop-report')!.shadowRoot!.activeElement?.getAttribute('part'))).toBe('launcher');
    expect(await violations(page)).toEqual([]);
  });

  it('after sending says when to expect it and follows it; My reports shows the report and withdraws it before dispatch', async () => {
    const page = await open(portal({ lang: 'en' }), {
      permissions: ['geolocation'],
      geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 },
    });
    await startReport(page);
    await expect.poll(() => shadow(page).getByText('Located (within about 10 m)').count()).toBe(1);
    await fillReport(page, 'Bin lid broken at gate 5');
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = shadow(page).locator('[part="outcome"]');
    const number = await sentNumber(outcome);
    // Not dispatched yet (this tenant routes nothing): the category's usual time, 3 hours for a bin.
    expect(await shadow(page).locator('[part="expected"]').textContent()).toBe('Problems of this kind are usually dealt with within 3 hours of dispatch.');
    await shadow(page).getByRole('button', { name: 'Follow it' }).click();
    const ticket = await ticketByNumber(number);
    const card = shadow(page).locator(`[data-ticket="${ticket.id}"]`);
    await expect.poll(() => card.locator('h3').evaluate((heading) => heading === (heading.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await card.locator('[part="description"]').textContent()).toBe('Bin lid broken at gate 5');
    expect(await card.locator('[part="place"]').textContent()).toBe(`Place：${ESTATE.lat.toFixed(5)}, ${ESTATE.lon.toFixed(5)}`);

    // Withdrawn before anyone was sent: two presses, then the ticket is cancelled.
    await card.getByRole('button', { name: 'Withdraw this report' }).click();
    expect((await ticketByNumber(number)).status).toBe('reported');
    await card.getByRole('button', { name: 'Yes, withdraw it' }).click();
    // Announced by the widget, or by the live update if that lands after it: either way, said.
    await expect.poll(() => announcer(page).textContent()).toMatch(new RegExp(`^Report ${number}( is withdrawn\\.|: Cancelled)$`));
    expect((await ticketByNumber(number)).status).toBe('cancelled');
    await expect.poll(() => shadow(page).locator(`[data-ticket="${ticket.id}"] [part="status"]`).textContent()).toBe('Cancelled');
    expect(await shadow(page).locator(`[data-ticket="${ticket.id}"] [part="withdraw"]`).count()).toBe(0);

    // Once dispatched, the card gives its deadline and offers no withdrawal.
    const resident = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: RESIDENT, role: 'citizen' }),
    });
    const other = await resident.tickets.create({ category: 'sanitation.bin_overflow', description: 'Second bin', location: { lat: 23.2, lon: 113.4 } });
    const { ticket: dispatched } = await (await staff('d-1', 'dispatcher')).tickets.dispatch(other.id, { unitId: 'sanitation' });
    await page.reload();
    await shadow(page).getByRole('tab', { name: 'My reports' }).click();
    const second = shadow(page).locator(`[data-ticket="${other.id}"]`);
    await expect.poll(() => second.locator('[part="due"]').count()).toBe(1);
    expect(await second.locator('[part="due"]').textContent()).toMatch(/^To be dealt with by /);
    expect(dispatched.sla).toBeDefined();
    expect(await second.locator('[part="withdraw"]').count()).toBe(0);
    expect(await violations(page)).toEqual([]);
  });
  it('asks for the location only once the resident starts, then offers the same problem reported nearby to follow instead', async () => {
    // Reports of this kind nearby: one by a neighbour (shown), one far away and one of another kind (not).
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: true });
    try {
      const neighbour = new CivicLoop({
        baseUrl: gw.url,
        apiKey: gw.tenant.publishableKey,
        token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'resident-2002', role: 'citizen' }),
      });
      const existing = await neighbour.tickets.create({
        category: 'sanitation.scattered_litter',
        description: 'Litter all over the lawn by block 3',
        location: { lat: ESTATE.lat + 30 / 111_320, lon: ESTATE.lon },
      });
      await neighbour.tickets.create({
        category: 'sanitation.scattered_litter',
        description: 'Litter by the far gate',
        location: { lat: ESTATE.lat + 0.05, lon: ESTATE.lon },
      });
      const before = (await secret().tickets.list({ category: 'sanitation.scattered_litter' })).items.length;

      const page = await open(portal({ lang: 'en' }), {
        permissions: ['geolocation'],
        geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 },
      });
      const status = shadow(page).getByText('Your location is found when you start the report.');
      await status.waitFor();
      // Nothing asked yet: the page has not touched the position.
      expect(
        await shadow(page)
          .getByText(/Located/)
          .count(),
      ).toBe(0);
      await startReport(page);
      await expect.poll(() => shadow(page).getByText('Located (within about 10 m)').count()).toBe(1);
      await chooseCategory(page, 'sanitation.scattered_litter');
      const offered = shadow(page).locator('[part="nearby"]');
      await expect.poll(() => offered.isVisible()).toBe(true);
      expect(await offered.locator('h3').textContent()).toBe('Already reported nearby: is it one of these?');
      expect(await offered.locator('[data-nearby]').evaluateAll((items) => items.map((item) => item.getAttribute('data-nearby')))).toEqual([existing.id]);
      expect(await offered.locator(`[data-nearby="${existing.id}"] p`).textContent()).toBe('Litter all over the lawn by block 3, 30 m away, Reported');
      await offered.scrollIntoViewIfNeeded();
      // For docs/widget.md when UPDATE_SCREENSHOTS=1.
      if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: path.join(here, '..', '..', '..', 'docs', 'images', 'widget-nearby.png') });
      await offered.locator(`[data-nearby="${existing.id}"] button`).click();
      await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toBe(`You follow report ${existing.number}: you will hear how it goes.`);
      // No new report; the resident follows the neighbour's, and finds it among their reports.
      expect((await secret().tickets.list({ category: 'sanitation.scattered_litter' })).items).toHaveLength(before);
      expect((await secret().tickets.get(existing.id)).followers).toEqual([RESIDENT]);
      await shadow(page).getByRole('button', { name: 'Follow it' }).click();
      await expect
        .poll(() => shadow(page).locator(`[data-ticket="${existing.id}"] [part="description"]`).textContent())
        .toBe('Litter all over the lawn by block 3');
      expect(await violations(page)).toEqual([]);
    } finally {
      await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: false });
    }
  });
  it('lets the resident chase (催办) their overdue report once, and says so', async () => {
    // Reported and dispatched two days ago (the gateway's clock set back meanwhile): overdue now.
    const realNow = gw.services.now;
    gw.services.now = () => new Date(Date.now() - 48 * 3_600_000);
    let ticket: Ticket;
    try {
      const resident = new CivicLoop({
        baseUrl: gw.url,
        apiKey: gw.tenant.publishableKey,
        token: await signToken({ secretKey: gw.tenant.secretKey, sub: RESIDENT, role: 'citizen' }),
      });
      ticket = await resident.tickets.create({ category: 'sanitation.bin_overflow', description: 'Bin by block 7 never emptied', location: ESTATE });
      await (await staff('d-1', 'dispatcher')).tickets.dispatch(ticket.id, { unitId: 'sanitation' });
    } finally {
      gw.services.now = realNow;
    }
    const page = await open(portal({ lang: 'zh-CN' }));
    await page.getByRole('tab', { name: '我的报事' }).click();
    const card = shadow(page).locator(`[data-ticket="${ticket.id}"]`);
    await expect.poll(() => card.locator('[part="due"]').textContent()).toMatch(/ · 已超期$/);
    await card.locator('[part="urge"]').click();
    await expect.poll(() => card.locator('[part="urged"]').textContent()).toMatch(/^已催办（.+），处理单位已收到。$/);
    // The live stream can redraw the card before the SDK call returns and the announcement is made.
    await expect.poll(() => announcer(page).textContent()).toBe(`已催办报事 ${ticket.number}，处理单位已收到。`);
    // Once: the button is gone, and the gateway holds one chase.
    expect(await card.locator('[part="urge"]').count()).toBe(0);
    const stored = await secret().tickets.get(ticket.id);
    expect(stored).toMatchObject({ status: 'dispatched', urgeCount: 1 });
    expect((await secret().tickets.history(ticket.id)).filter((e) => e.type === 'urged')).toHaveLength(1);
    expect(await violations(page)).toEqual([]);
  });
  it(
    'starts with the camera, offers the types of problem as a grid of groups ' + 'with icons, searches them in Chinese, and puts the type used last first',
    async () => {
      const page = await open(portal({ lang: 'zh-CN' }), {
        permissions: ['geolocation'],
        geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 },
        viewport: { width: 390, height: 844 },
      });
      const widget = shadow(page);
      // Photo first: the large camera tile is the form's first control.
      const first = widget.locator('form input, form select, form textarea, form summary').first();
      expect(await first.getAttribute('type')).toBe('file');
      expect(await widget.locator('[part="photo-tile"] label').textContent()).toBe('照片（最多 3 张）');
      // Eight groups, each a tile with its icon and how many types it holds; closed until chosen.
      const groups = widget.locator('[part="categories"] details');
      await expect.poll(() => groups.count()).toBe(8);
      expect(await groups.first().locator('summary').textContent()).toBe('环境卫生 12');
      expect(await groups.first().locator('summary svg[aria-hidden="true"]').count()).toBe(1);
      expect(await widget.locator('[part="categories"] details[open]').count()).toBe(0);
      // Required marks: the type, the description (and the address only when there is no place).
      expect(await widget.locator('[part="categories"] legend').textContent()).toBe('问题类型 *');
      expect(await widget.getByLabel('问题描述').getAttribute('required')).toBe('');
      // Search in Chinese: only the types whose name holds it, in the groups that have them, opened.
      await widget.getByLabel('搜索问题类型').fill('垃圾');
      const shownTypes = () => widget.locator('.tile:visible input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
      const found = await shownTypes();
      expect(found.length).toBeGreaterThan(1);
      expect(found.every((code) => code.startsWith('sanitation.'))).toBe(true);
      expect(await widget.locator('[part="categories"] details[open]').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-group')))).toEqual([
        'sanitation',
      ]);
      await widget.getByLabel('搜索问题类型').fill('没有这种问题');
      await expect.poll(() => widget.getByText('没有匹配的问题类型').isVisible()).toBe(true);
      await widget.getByLabel('搜索问题类型').fill('');
      // Sending without a type says so and puts focus on the choice.
      await widget.getByLabel('问题描述').fill('路灯不亮');
      await widget.getByRole('button', { name: '提交' }).click();
      await expect.poll(() => widget.locator('[part="error"]').textContent()).toBe('请检查：问题类型');
      expect(await widget.locator('[part="categories"]').getAttribute('aria-invalid')).toBe('true');
      await chooseCategory(page, 'municipal.street_light');
      expect(await widget.locator('[part="error"]').textContent()).toBe('');
      expect(await widget.locator('[part="categories"]').getAttribute('aria-invalid')).toBeNull();
      if (process.env.UPDATE_SCREENSHOTS === '1')
        await page.screenshot({ path: path.join(here, '..', '..', '..', 'docs', 'images', 'widget-form.png'), fullPage: true });
      expect(await accessibilityViolations(page)).toEqual([]);
      await widget.getByRole('button', { name: '提交' }).click();
      await expect.poll(() => widget.locator('[part="outcome"]').textContent()).toMatch(/^已上报，编号/);
      // The next report: the type just used leads, in "recently used", already open.
      await widget.getByRole('button', { name: '再报一件' }).click();
      const recent = widget.locator('details[data-group="recent"]');
      expect(await recent.getAttribute('open')).toBe('');
      expect(await recent.locator('summary').textContent()).toBe('最近使用 1');
      expect(await recent.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(['municipal.street_light']);
      expect(await violations(page)).toEqual([]);
    },
  );

  it("asks the chosen type's own questions, refuses a report without a required answer, and sends the answers", async () => {
    // Last in this file: the tenant's catalogue gains a type the tests above do not expect.
    await secret().catalogue.define('other.stray_dog', {
      group: 'other',
      name: { 'zh-CN': '流浪狗', en: 'Stray dog' },
      defaultPriority: 'high',
      sla: { respond: 30, arrive: 120, resolve: 480 },
      skills: [],
      private: false,
      questions: [
        {
          code: 'size',
          datatype: 'singlevaluelist',
          required: true,
          order: 1,
          description: { 'zh-CN': '狗有多大？', en: 'How big is the dog?' },
          values: [
            { key: 'small', name: { 'zh-CN': '小', en: 'Small' } },
            { key: 'big', name: { 'zh-CN': '大', en: 'Big' } },
          ],
        },
        {
          code: 'count',
          datatype: 'number',
          required: false,
          order: 2,
          description: { 'zh-CN': '有几只？', en: 'How many?' },
          help: { 'zh-CN': '估计即可', en: 'A guess will do' },
        },
        {
          code: 'behaviour',
          datatype: 'multivaluelist',
          required: false,
          order: 3,
          description: { 'zh-CN': '它在做什么？', en: 'What is it doing?' },
          values: [
            { key: 'barking', name: { 'zh-CN': '吠叫', en: 'Barking' } },
            { key: 'biting', name: { 'zh-CN': '咬人', en: 'Biting' } },
          ],
        },
      ],
    });
    const page = await open(portal({ lang: 'en' }), {
      permissions: ['geolocation'],
      geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 },
    });
    const widget = shadow(page);
    const questions = widget.locator('[part="questions"]');
    await chooseCategory(page, 'sanitation.bin_overflow');
    expect(await questions.isHidden()).toBe(true);
    await chooseCategory(page, 'other.stray_dog');
    await expect.poll(() => questions.isVisible()).toBe(true);
    // In their order, labelled, the help beside its question, the required one marked.
    expect(await questions.locator('label, legend').allTextContents()).toEqual([
      'A few more questions',
      'How big is the dog? *',
      'How many?',
      'What is it doing?',
      'Barking',
      'Biting',
    ]);
    expect(await widget.getByLabel('How many?').getAttribute('aria-describedby')).toBeTruthy();
    expect(await widget.getByText('A guess will do').isVisible()).toBe(true);
    await page.getByLabel('What is the problem?').fill('A dog by the playground');
    await page.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => widget.locator('[part="error"]').textContent()).toBe('Please check: How big is the dog?');
    expect(await widget.getByLabel('How big is the dog?').getAttribute('aria-invalid')).toBe('true');
    await widget.getByLabel('How big is the dog?').selectOption('big');
    await widget.getByLabel('How many?').fill('2');
    await widget.getByLabel('Biting').check();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = widget.locator('[part="outcome"]');
    const number = await sentNumber(outcome);
    const ticket = await ticketByNumber(number);
    expect(ticket).toMatchObject({ category: 'other.stray_dog', answers: { size: 'big', count: 2, behaviour: ['biting'] } });
    expect(ticket.categoryAsReported?.name.en).toBe('Stray dog');
    expect(await violations(page)).toEqual([]);
  });

  it('loads through its loader on a page that enforces Trusted Types, with the one policy it names', async () => {
    const page = await open(portal({ lang: 'en', extraCsp: "require-trusted-types-for 'script'; trusted-types civicloop-widget" }), {
      permissions: ['geolocation'],
      geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 },
    });
    await fillReport(page, 'Filed under Trusted Types');
    await page.getByRole('button', { name: 'Send report' }).click();
    await expect.poll(() => shadow(page).locator('[part="outcome"]').textContent()).toMatch(/Sent: report number/);
    expect(await page.evaluate(() => (window as unknown as { trustedTypes: { getPolicyNames?: () => string[] } }).trustedTypes !== undefined)).toBe(true);
    expect(await violations(page)).toEqual([]);
    // A page whose CSP does not allow the policy gets no widget (and the browser reports why).
    await context?.close();
    const refused = await open(portal({ lang: 'en', extraCsp: "require-trusted-types-for 'script'; trusted-types other-policy" }));
    await expect.poll(async () => (await violations(refused)).some((v) => v.startsWith('trusted-types'))).toBe(true);
    expect(await shadow(refused).locator('form').count()).toBe(0);
  });

  it('runs from a CDN-style URL as a plain module script, no bundler, no gateway-served loader', async () => {
    const files = (name: string) => async (_request: unknown, response: import('node:http').ServerResponse) => {
      // As unpkg and jsDelivr serve a package's files: with CORS, as module scripts need.
      response
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'access-control-allow-origin': '*' })
        .end(readFileSync(path.join(dist, name)));
    };
    const cdn = await serveHost({
      '/npm/@civicloop/widget@0.1.0/dist/civicloop-widget.js': files('civicloop-widget.js'),
      '/npm/@civicloop/widget@0.1.0/dist/civicloop-pin-map.js': files('civicloop-pin-map.js'),
    });
    try {
      const element =
        `<civicloop-report publishable-key="${gw.tenant.publishableKey}" gateway="${gw.url}" ` +
        `token-url="/token" default-location="${ESTATE.lat},${ESTATE.lon}"></civicloop-report>`;
      const page = await open(
        portal({
          lang: 'en',
          scriptSrc: cdn.origin,
          embed: `${element}<script type="module" src="${cdn.origin}/npm/@civicloop/widget@0.1.0/dist/civicloop-widget.js"></script>`,
        }),
        { permissions: ['geolocation'], geolocation: { latitude: ESTATE.lat, longitude: ESTATE.lon, accuracy: 10 } },
      );
      await fillReport(page, 'Filed from the CDN build');
      await page.getByRole('button', { name: 'Send report' }).click();
      const outcome = shadow(page).locator('[part="outcome"]');
      const number = await sentNumber(outcome);
      expect((await ticketByNumber(number)).description).toBe('Filed from the CDN build');
      expect(await violations(page)).toEqual([]);
    } finally {
      await cdn.close();
    }
  });

  it('starts the report at the place a scanned QR entry code names, without asking the device', async () => {
    // The page address a code from GET /v1/entry-codes/report.png opens (its own test decodes one).
    pageHtml = portal({ lang: 'en' });
    context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${host.url}?estate=sunny&cl-place=23.13412,113.32501,gcj02&cl-place-name=${encodeURIComponent('Building 3, Sunny Gardens')}`);
    const asked: string[] = [];
    await page.exposeFunction('geolocationAsked', () => asked.push('asked'));
    await page.evaluate(() => {
      const original = navigator.geolocation.getCurrentPosition.bind(navigator.geolocation);
      navigator.geolocation.getCurrentPosition = (...args: Parameters<Geolocation['getCurrentPosition']>) => {
        void (window as unknown as { geolocationAsked: () => void }).geolocationAsked();
        original(...args);
      };
    });
    const widget = shadow(page);
    await expect.poll(() => widget.getByText('The place is from the code you scanned: Building 3, Sunny Gardens').count()).toBe(1);
    expect(await widget.getByLabel('Address').inputValue()).toBe('Building 3, Sunny Gardens');
    await fillReport(page, 'Lift out of order at building 3');
    await page.getByRole('button', { name: 'Send report' }).click();
    const outcome = widget.locator('[part="outcome"]');
    const number = await sentNumber(outcome);
    const ticket = await ticketByNumber(number);
    // Sent as the code gave it (GCJ-02), stored in WGS-84 with the point as received beside it.
    expect(ticket.reportedLocation).toEqual({ lat: 23.13412, lon: 113.32501, crs: 'gcj02' });
    expect(ticket.location).toMatchObject({ address: 'Building 3, Sunny Gardens', accuracy: 10 });
    expect(asked).toEqual([]);
    expect(await violations(page)).toEqual([]);
  });
});
