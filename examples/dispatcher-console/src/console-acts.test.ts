import { existsSync, mkdirSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import sharp from 'sharp';
import jsQR from 'jsqr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { nativeTopic } from '@civicloop/model';
import { fromWgs84 } from '@civicloop/model/crs';
import { CivicLoop, signToken } from '@civicloop/sdk';
import { BIN_REPORT, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { launchChromium, accessibilityViolations } from '@civicloop/test-support/browser.js';
import type { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';
import { startConsole } from './console.js';

// The command centre acting through its console in Chromium: a dispatcher dispatches to a
// suggested nearby worker, merges a duplicate, sees a refused command explained, finds tickets;
// a supervisor verifies with before and after photos; the dispatcher records the phone follow-up.
const publicDir = new URL('../dist/public/', import.meta.url);
// Screenshots for docs/images when UPDATE_SCREENSHOTS=1; otherwise beside the test results.
const shots =
  process.env.UPDATE_SCREENSHOTS === '1' ? new URL('../../../docs/images/', import.meta.url) : new URL('../../../.test-results/screenshots/', import.meta.url);
const SITE = { lat: 23.1291, lon: 113.2644 };
const metersNorth = (m: number) => ({ lat: SITE.lat + m / 111_320, lon: SITE.lon });

let gw: TestGateway;
let browser: Browser;
let badge: MqttClient | undefined;
const closers: (() => Promise<void>)[] = [];
const terminals: Jt808Terminal[] = [];

beforeAll(async () => {
  if (!existsSync(new URL('console.js', publicDir))) throw new Error('examples/dispatcher-console/dist is missing: run npm run build first (npm test does).');
  mkdirSync(shots, { recursive: true });
  gw = await startTestGateway({}, { telemetry: true });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  badge?.end(true);
  for (const terminal of terminals) terminal.close();
  for (const close of closers) await close();
  await browser?.close();
  await gw?.close();
});

async function consoleAs(operator: { sub: string; role: 'dispatcher' | 'supervisor' | 'admin'; name: string }): Promise<Page> {
  const server = await startConsole({ gatewayUrl: gw.url, secretKey: gw.tenant.secretKey, publishableKey: gw.tenant.publishableKey, publicDir, operator });
  closers.push(server.close);
  const { policy } = (await gw.services.tenants.context(gw.tenant.id))!.tenant;
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [...policy.allowedOrigins, new URL(server.url).origin] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  closers.push(() => context.close());
  const page = await context.newPage();
  await page.goto(server.url);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

const card = (page: Page, id: string) => page.locator(`#columns [data-ticket="${id}"]`);
const stateOf = (page: Page, id: string) => card(page, id).locator('xpath=ancestor::div[@data-state]').getAttribute('data-state');
const dialog = (page: Page) => page.locator('dialog#detail');
async function closeDetail(page: Page): Promise<void> {
  await page.locator('dialog#detail button.close').click();
  await expect.poll(() => dialog(page).getAttribute('open')).toBeNull();
}

describe('the command centre acts from its console', { timeout: 120_000 }, () => {
  it('dispatches to a suggested worker, merges a duplicate, verifies with photos and records the phone follow-up', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    // Worker One is checked in 400 m from the site, wearing a badge with the cleaning skill.
    const registered = await server.devices.register({ kind: 'badge', name: 'Badge 1', staffId: 'w-1', unitId: 'sanitation', skills: ['cleaning'] });
    badge = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: registered.credential.username,
      password: registered.credential.password,
      reconnectPeriod: 0,
    });
    await badge.publishAsync(nativeTopic(gw.tenant.id, 'badge', registered.device.id, 'position'), JSON.stringify({ ts: Date.now(), ...metersNorth(400) }), {
      qos: 1,
    });
    await badge.publishAsync(nativeTopic(gw.tenant.id, 'badge', registered.device.id, 'event'), JSON.stringify({ type: 'check_in', ts: Date.now() }), {
      qos: 1,
    });

    const resident = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'resident-9', role: 'citizen' }),
    });
    const jpeg = (colour: string) =>
      sharp({ create: { width: 320, height: 240, channels: 3, background: colour } })
        .jpeg()
        .toBuffer();
    const before = await resident.media.upload(new Blob([new Uint8Array(await jpeg('#8a6d3b'))], { type: 'image/jpeg' }), 'bin.jpg');
    const first = await resident.tickets.create({
      ...BIN_REPORT,
      description: 'Bin overflowing at the east gate',
      location: SITE,
      photos: [{ ref: before.ref }],
    });
    const neighbour = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'resident-10', role: 'citizen' }),
    });
    const again = await neighbour.tickets.create({ ...BIN_REPORT, description: 'Rubbish all round the bin by the gate', location: metersNorth(20) });

    const desk = await consoleAs({ sub: 'd-1', role: 'dispatcher', name: '王调度 Wang' });
    expect(await desk.locator('#operator').textContent()).toBe('王调度 Wang · dispatcher');
    expect(await stateOf(desk, first.id)).toBe('reported');
    expect(await accessibilityViolations(desk)).toEqual([]);
    await desk.screenshot({ path: new URL('console-board.png', shots).pathname });

    // Open the first report by keyboard; the suggestion names the worker and the distance.
    await card(desk, first.id).locator('button').focus();
    await desk.keyboard.press('Enter');
    await expect.poll(() => dialog(desk).getAttribute('open')).toBe('');
    expect(await desk.locator('#detail-title').textContent()).toBe(`${first.number} 垃圾桶满溢 Overflowing bin`);
    const suggestion = desk.locator('[data-action="dispatch"] [data-suggestion="w-1"]');
    await suggestion.waitFor();
    expect(await suggestion.locator('button[data-staff]').textContent()).toBe('Dispatch to Worker One');
    expect(await suggestion.locator('[data-distance]').textContent()).toMatch(/^ sanitation · (399|400|401) m$/);
    // That distance is from the badge's last report; asked where it is now, the badge (as firmware
    // does on report_location) publishes a fresh fix, 150 m from the site.
    const position = nativeTopic(gw.tenant.id, 'badge', registered.device.id, 'position');
    badge.on('message', (_topic, payload) => {
      if ((JSON.parse(payload.toString()) as { type: string }).type === 'report_location')
        void badge!.publishAsync(position, JSON.stringify({ ts: Date.now(), ...metersNorth(150) }), { qos: 1 });
    });
    await badge.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', registered.device.id, 'cmd'), { qos: 1 });
    await suggestion.locator('[data-locate]').click();
    await expect.poll(() => suggestion.locator('[data-distance]').textContent()).toMatch(/^ sanitation · now (149|150|151) m, at .+ 当前距离$/);
    await expect.poll(() => desk.locator('[data-photos="before"] img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await accessibilityViolations(desk)).toEqual([]);
    await desk.locator('[data-action="dispatch"]').scrollIntoViewIfNeeded();
    await dialog(desk).screenshot({ path: new URL('console-dispatch.png', shots).pathname });
    await suggestion.locator('button[data-staff]').click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Dispatched 已派遣: ${first.number}`);
    expect(await server.tickets.get(first.id)).toMatchObject({ status: 'dispatched', unitId: 'sanitation', assigneeId: 'w-1' });
    await expect.poll(() => stateOf(desk, first.id)).toBe('dispatched');
    expect(await card(desk, first.id).locator('.countdown').textContent()).toMatch(/^Respond 响应: (29|30)m left$/);
    await desk.keyboard.press('Escape');
    await expect.poll(() => dialog(desk).getAttribute('open')).toBeNull();

    // The second report is the same bin: side by side with the first, merged into it.
    await card(desk, again.id).locator('button').click();
    const pair = desk.locator(`[data-duplicate="${first.id}"]`);
    await pair.waitFor();
    expect(await pair.locator(`[data-side="${again.id}"]`).textContent()).toContain('Rubbish all round the bin by the gate');
    expect(await pair.locator(`[data-side="${first.id}"]`).textContent()).toContain('Bin overflowing at the east gate');
    expect(await pair.locator(`[data-side="${first.id}"]`).textContent()).toMatch(/(19|20|21) m away/);
    await pair.scrollIntoViewIfNeeded();
    await dialog(desk).screenshot({ path: new URL('console-merge.png', shots).pathname });
    await pair.locator(`[data-merge-into="${first.id}"]`).click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Merged into ${first.number} 已合并: ${again.number}`);
    await expect.poll(() => card(desk, again.id).count()).toBe(0);
    expect(await server.tickets.get(again.id)).toMatchObject({ status: 'duplicate', duplicateOf: first.id });
    expect((await server.tickets.get(first.id)).followers).toContain('resident-10');
    await closeDetail(desk);

    // A command someone else's beat: the console says why, with the code, and changes nothing.
    const third = await resident.tickets.create({ ...BIN_REPORT, description: 'Litter by the bus stop', location: { lat: 23.14, lon: 113.28 } });
    await expect.poll(() => card(desk, third.id).count()).toBe(1);
    await card(desk, third.id).locator('button').click();
    const unit = desk.locator('[data-action="dispatch"] select[name="unitId"]');
    await unit.selectOption('sanitation');
    // The console redraws an open ticket when it changes; holding that redraw back leaves the
    // dispatcher a stale form to send, as a slow network would.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await desk.route(`**/v1/tickets/${third.id}/history`, async (route) => {
      await held;
      await route.continue();
    });
    await server.tickets.dispatch(third.id, { unitId: 'municipal' });
    await desk.locator('[data-action="dispatch"] button[type="submit"]').click();
    await expect.poll(() => desk.locator('#detail .error').textContent()).toMatch(/\(CL_ERR_VERSION_CONFLICT\)$/);
    expect(await server.tickets.get(third.id)).toMatchObject({ status: 'dispatched', unitId: 'municipal', version: 2 });
    release(); // and every later request for it goes straight through
    // Then the dialog shows the ticket as it now is: dispatched, so reassigning is what is offered.
    await expect.poll(() => desk.locator('[data-action="reassign"]').count()).toBe(1);
    expect(await desk.locator('[data-action="dispatch"]').count()).toBe(0);
    await closeDetail(desk);

    // Filters: by unit, and only what is overdue (nothing yet).
    await desk.selectOption('#filter-unit', 'municipal');
    await expect.poll(() => desk.locator('#columns [data-ticket]').count()).toBe(1);
    expect(await desk.locator('#shown').textContent()).toBe('1 of 2 open shown 筛选显示');
    await desk.check('#filter-overdueOnly');
    await expect.poll(() => desk.locator('#columns [data-ticket]').count()).toBe(0);
    await desk.click('#filters button[type="reset"]');
    await expect.poll(() => desk.locator('#columns [data-ticket]').count()).toBe(2);

    // The worker fixes it with an after-photo; the supervisor verifies from their console.
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
    });
    const after = await worker.media.upload(new Blob([new Uint8Array(await jpeg('#3a7d44'))], { type: 'image/jpeg' }), 'after.jpg');
    await worker.tickets.accept(first.id);
    await worker.tickets.arrive(first.id);
    await worker.tickets.resolve(first.id, { photos: [{ ref: after.ref }], note: 'Emptied and swept' });
    await expect.poll(() => stateOf(desk, first.id)).toBe('resolved');
    // A dispatcher may not verify: no verify control on their console.
    await card(desk, first.id).locator('button').click();
    await desk.locator('#detail-title').waitFor();
    await expect.poll(() => desk.locator('#detail .history li').count()).toBe(6);
    expect(await desk.locator('[data-action="verify"]').count()).toBe(0);
    await closeDetail(desk);

    const lead = await consoleAs({ sub: 's-1', role: 'supervisor', name: '赵主任 Zhao' });
    await card(lead, first.id).locator('button').click();
    for (const side of ['before', 'after'])
      await expect
        .poll(() => lead.locator(`#detail [data-photos="${side}"] img`).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
        .toBe(true);
    expect(await lead.locator('[data-action="dispatch"]').count()).toBe(0);
    expect(await accessibilityViolations(lead)).toEqual([]);
    await lead.locator('[data-action="verify"]').scrollIntoViewIfNeeded();
    await dialog(lead).screenshot({ path: new URL('console-verify.png', shots).pathname });
    await lead.locator('[data-action="verify"] input[name="note"]').fill('Clean, bin emptied');
    await lead.locator('[data-action="verify"] [data-outcome="pass"]').click();
    await expect.poll(() => lead.locator('#detail .status').textContent()).toBe(`Verified and closed 核查通过: ${first.number}`);
    expect(await server.tickets.get(first.id)).toMatchObject({ status: 'closed' });
    await expect.poll(() => card(desk, first.id).count()).toBe(0);

    // The dispatcher phones the reporter and records what they said.
    const due = desk.locator(`#followups [data-followup="${first.id}"]`);
    await expect.poll(() => due.count(), { timeout: 10_000 }).toBe(1);
    await due.click();
    await desk.locator('[data-action="feedback"] select[name="rating"]').selectOption('4');
    await desk.locator('[data-action="feedback"] input[name="comment"]').fill('Quick, but the bin smells');
    await desk.locator('[data-action="feedback"] button[type="submit"]').click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Follow-up recorded 已记录回访: ${first.number}`);
    expect((await server.tickets.get(first.id)).feedback).toMatchObject({
      rating: 4,
      via: 'phone',
      comment: 'Quick, but the bin smells',
      by: { sub: 'd-1', role: 'dispatcher' },
    });
    await expect.poll(() => desk.locator(`#followups [data-followup="${first.id}"]`).count()).toBe(0);
    await closeDetail(desk);

    // A hotline caller quotes the number of a closed ticket: found, with its rating.
    await desk.fill('#filter-text', first.number.toLowerCase());
    await desk.press('#filter-text', 'Enter');
    await expect.poll(() => desk.locator('#detail-title').textContent()).toBe(`${first.number} 垃圾桶满溢 Overflowing bin`);
    expect(await desk.locator('#detail .facts').textContent()).toContain('4/5 (phone): Quick, but the bin smells');
    await closeDetail(desk);
    await desk.fill('#filter-text', 'NOPE-20260101-0001');
    await desk.press('#filter-text', 'Enter');
    await expect.poll(() => desk.locator('#find-result').textContent()).toMatch(/^NOPE-20260101-0001: .*\(CL_ERR_NOT_FOUND\)$/);
  });

  it('draws the 100 most urgent cards of a column and says how many more there are', async () => {
    const busy = await gw.createTenant('Q');
    const server = await startConsole({ gatewayUrl: gw.url, secretKey: busy.secretKey, publishableKey: busy.publishableKey, publicDir });
    closers.push(server.close);
    await gw.services.tenants.updatePolicy(busy.id, { allowedOrigins: [new URL(server.url).origin] });
    const sdk = new CivicLoop({ baseUrl: gw.url, apiKey: busy.secretKey });
    const created = [];
    for (let i = 0; i < 105; i++)
      created.push(await sdk.tickets.create({ ...BIN_REPORT, description: `Report ${i}`, location: { lat: 23.0 + i * 0.01, lon: 113.0 } }));
    const context = await browser.newContext();
    closers.push(() => context.close());
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator('body[data-ready="true"]').waitFor();
    const queue = page.locator('#columns [data-state="reported"]');
    expect(await queue.locator('[data-ticket]').count()).toBe(100);
    expect(await queue.locator('.count').textContent()).toBe('105');
    expect(await queue.locator('.more').textContent()).toBe('+5 more: narrow with the filters 更多请筛选');
    // Queued tickets have no deadline yet: the oldest come first, so the newest five wait below.
    expect(await queue.locator(`[data-ticket="${created[104]!.id}"]`).count()).toBe(0);
    expect(await queue.locator('[data-ticket]').first().getAttribute('data-ticket')).toBe(created[0]!.id);
    // Narrowed by the search, the one asked for is drawn.
    await page.fill('#filter-text', 'Report 104');
    await expect.poll(() => queue.locator('[data-ticket]').count()).toBe(1);
    expect(await queue.locator('.more').isHidden()).toBe(true);
  });

  it('decides an extension request, returns a ticket to the queue and rejects a report with a reason', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-2', 'worker', { unitId: 'sanitation' }),
    });
    const slow = await server.tickets.create({ ...BIN_REPORT, description: 'Bin needs a new lid', location: { lat: 23.3, lon: 113.6 } });
    await server.tickets.dispatch(slow.id, { unitId: 'sanitation', assigneeId: 'w-2' });
    await worker.tickets.accept(slow.id);
    await worker.tickets.requestExtension(slow.id, { minutes: 120, reason: 'Lid on order' });
    const before = Date.parse((await server.tickets.get(slow.id)).sla!.resolveBy);
    const stray = await server.tickets.create({ ...BIN_REPORT, description: 'Test report, please ignore', location: { lat: 23.35, lon: 113.65 } });

    const desk = await consoleAs({ sub: 'd-2', role: 'dispatcher', name: 'Dispatcher Two' });
    const slowCard = card(desk, slow.id);
    expect(await slowCard.locator('.flag').textContent()).toBe('Extension asked 申请延期');
    await slowCard.locator('button').click();
    const asked = desk.locator('[data-action="review_extension"]');
    await asked.waitFor();
    expect(await asked.textContent()).toContain('w-2 asks for 2 h more: Lid on order');
    await asked.locator('[data-decide="approve"]').click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Extension approved 已同意延期: ${slow.number}`);
    const approved = await server.tickets.get(slow.id);
    expect(approved.extension).toMatchObject({ status: 'approved', decidedBy: { sub: 'd-2' } });
    expect(Date.parse(approved.sla!.resolveBy) - before).toBe(120 * 60_000);
    await expect.poll(() => desk.locator('[data-action="review_extension"]').count()).toBe(0);

    // Not for this unit after all: back to the queue, with the reason.
    await desk.locator('[data-action="return"] input[name="reason"]').fill('Belongs to the park management');
    await desk.locator('[data-action="return"] button[type="submit"]').click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Returned 已退回: ${slow.number}`);
    expect(await server.tickets.get(slow.id)).toMatchObject({ status: 'reported' });
    await expect.poll(() => stateOf(desk, slow.id)).toBe('reported');
    await closeDetail(desk);

    // A report that is not a real problem: rejected with the reason and a note to the reporter.
    await card(desk, stray.id).locator('button').click();
    await expect.poll(() => desk.locator('#detail-title').textContent()).toBe(`${stray.number} 垃圾桶满溢 Overflowing bin`);
    await desk.locator('[data-action="reject"] select[name="reason"]').selectOption('invalid');
    await desk.locator('[data-action="reject"] input[name="note"]').fill('A test report');
    await desk.locator('[data-action="reject"] button[type="submit"]').click();
    await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Rejected 已驳回: ${stray.number}`);
    expect(await server.tickets.get(stray.id)).toMatchObject({ status: 'rejected', rejection: { reason: 'invalid', note: 'A test report' } });
    await expect.poll(() => card(desk, stray.id).count()).toBe(0);
  });
  it('keeps a ticket where its map draws it after acting on it, on a tenant whose maps are GCJ-02', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    await server.updatePolicy({ defaultCrs: 'gcj02' });
    try {
      // Outside every zone, so that it waits in the queue for the dispatcher.
      const place = { lat: 23.33, lon: 113.63 };
      const report = await server.tickets.create({ ...BIN_REPORT, description: 'Bin knocked over', location: { ...place, crs: 'wgs84' } });
      expect(report.status).toBe('reported');
      const desk = await consoleAs({ sub: 'd-6', role: 'dispatcher', name: 'Dispatcher Six' });
      const dot = desk.locator(`#map circle[data-ticket-dot="${report.id}"]`);
      const drawnAt = async () => (await dot.getAttribute('data-lonlat'))!.split(',').map(Number) as [number, number];
      const inGcj02 = fromWgs84(place.lat, place.lon, 'gcj02');
      expect(await drawnAt()).toEqual([inGcj02.lon, inGcj02.lat]);
      await card(desk, report.id).locator('button').click();
      await desk.locator('[data-action="dispatch"] select[name="unitId"]').selectOption('sanitation');
      await desk.locator('[data-action="dispatch"] button[type="submit"]').click();
      await expect.poll(() => desk.locator('#detail .status').textContent()).toBe(`Dispatched 已派遣: ${report.number}`);
      await expect.poll(() => stateOf(desk, report.id)).toBe('dispatched');
      // The command's answer took the ticket's place on the board and the map: still in GCJ-02, not moved ~600 m to where GPS puts it.
      expect(await drawnAt()).toEqual([inGcj02.lon, inGcj02.lat]);
      await closeDetail(desk);
    } finally {
      await server.updatePolicy({ defaultCrs: 'wgs84' });
    }
  });

  it('marks a card the reporter chased (催办), live', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    // Dispatched two days ago by the gateway's clock: overdue now.
    const realNow = gw.services.now;
    gw.services.now = () => new Date(Date.now() - 48 * 3_600_000);
    let late;
    try {
      late = await server.tickets.create({ ...BIN_REPORT, description: 'Bin by the school never emptied', location: { lat: 23.15, lon: 113.3 } });
      await server.tickets.dispatch(late.id, { unitId: 'sanitation' });
    } finally {
      gw.services.now = realNow;
    }
    const desk = await consoleAs({ sub: 'd-3', role: 'dispatcher', name: '赵调度 Zhao' });
    await expect.poll(() => stateOf(desk, late.id)).toBe('dispatched');
    expect(await card(desk, late.id).locator('[data-urged]').count()).toBe(0);
    await server.tickets.urge(late.id, { note: 'Called the hotline: still full' });
    await expect.poll(() => card(desk, late.id).locator('[data-urged]').textContent()).toBe('Chased 催办 ×1');
  });
  it('gives a supervisor the verify queue: resolved tickets longest waiting first, photos side by side, pass or fail on the row', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-2', 'worker', { unitId: 'sanitation' }),
    });
    const jpeg = (colour: string) =>
      sharp({ create: { width: 240, height: 180, channels: 3, background: colour } })
        .jpeg()
        .toBuffer();
    const resolved: string[] = [];
    for (const [i, description] of ['Litter by the kiosk', 'Bin lid broken'].entries()) {
      const before = await server.media.upload(new Blob([new Uint8Array(await jpeg(i ? '#6b4f2a' : '#4f6b2a'))], { type: 'image/jpeg' }), 'before.jpg');
      const after = await server.media.upload(new Blob([new Uint8Array(await jpeg(i ? '#2a6b4f' : '#2a4f6b'))], { type: 'image/jpeg' }), 'after.jpg');
      const t = await server.tickets.create({ ...BIN_REPORT, description, location: metersNorth(3000 + i * 100), photos: [{ ref: before.ref }] });
      await server.tickets.dispatch(t.id, { unitId: 'sanitation', assigneeId: 'w-2' });
      await worker.tickets.accept(t.id);
      await worker.tickets.arrive(t.id);
      await worker.tickets.resolve(t.id, { photos: [{ ref: after.ref }], note: 'Done' });
      resolved.push(t.id);
    }
    // A dispatcher has no queue: verifying is not theirs.
    const desk = await consoleAs({ sub: 'd-4', role: 'dispatcher', name: '钱调度 Qian' });
    expect(await desk.locator('#verify').isHidden()).toBe(true);

    const lead = await consoleAs({ sub: 's-2', role: 'supervisor', name: '孙主任 Sun' });
    const queue = lead.locator('#verify');
    const rows = () => queue.locator('[data-verify]').evaluateAll((items) => items.map((item) => item.getAttribute('data-verify')));
    // Longest waiting first (other tests' resolved tickets may wait too).
    await expect.poll(async () => (await rows()).filter((id) => resolved.includes(id!))).toEqual(resolved);
    const row = (id: string) => queue.locator(`[data-verify="${id}"]`);
    for (const side of ['before', 'after'])
      await expect
        .poll(() =>
          row(resolved[0]!)
            .locator(`[data-photos="${side}"] img`)
            .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0),
        )
        .toBe(true);
    expect(await accessibilityViolations(lead)).toEqual([]);
    await queue.scrollIntoViewIfNeeded();
    await queue.screenshot({ path: new URL('console-verify-queue.png', shots).pathname });

    // Failing needs a note; with one, the ticket goes back for rework and leaves the queue.
    await row(resolved[0]!).locator('[data-outcome="fail"]').click();
    expect(await row(resolved[0]!).locator('.status').textContent()).toBe('Say what is still wrong before sending it back. 退回返工请填写核查意见。');
    expect((await server.tickets.get(resolved[0]!)).status).toBe('resolved');
    await row(resolved[0]!).locator('input[name="note"]').fill('Litter still behind the kiosk');
    await row(resolved[0]!).locator('[data-outcome="fail"]').click();
    await expect.poll(() => row(resolved[0]!).count()).toBe(0);
    expect(await server.tickets.get(resolved[0]!)).toMatchObject({ status: 'rework', reworkCount: 1 });
    await row(resolved[1]!).locator('[data-outcome="pass"]').click();
    await expect.poll(() => row(resolved[1]!).count()).toBe(0);
    expect((await server.tickets.get(resolved[1]!)).status).toBe('closed');
    expect((await server.tickets.history(resolved[1]!)).at(-1)).toMatchObject({ type: 'verified', actor: { sub: 's-2', role: 'supervisor' } });
  });
  it('shows a supervisor an SOS and, once a dispatcher confirmed it, by whom, with no button to confirm it themselves', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const { device, credential } = await server.devices.register({ kind: 'badge', name: 'Badge 31', staffId: 'w-3' });
    const lead = await consoleAs({ sub: 's-3', role: 'supervisor', name: '吴主任 Wu' });
    await expect.poll(() => lead.locator('#live').getAttribute('data-state')).toBe('live');
    const at = Math.floor(Date.now() / 1000) - 1;
    const sos = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&id=${device.id}&lat=23.12&lon=113.25&timestamp=${at}&alarm=sos`, {
      method: 'POST',
    });
    expect(sos.status).toBe(200);
    const row = lead.locator(`#alerts [data-alert="sos"][data-device="${device.id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('[data-confirm]').count()).toBe(0);
    const dispatcher = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('d-6', 'dispatcher', { name: '郑调度 Zheng' }),
    });
    await dispatcher.devices.confirmAlarms(device.id, ['sos']);
    await expect.poll(() => row.locator('[data-confirmed]').getAttribute('data-confirmed')).toBe('郑调度 Zheng');
    expect(await row.locator('[data-confirm]').count()).toBe(0);
  });

  it("shows a truck's camera under its SOS: a dispatcher asks for a photo and sees it come; a supervisor only sees the photos", async () => {
    const { deviceId, terminal } = await onlineJt808Vehicle(gw, '13511112222', terminals);
    const desk = await consoleAs({ sub: 'd-9', role: 'dispatcher', name: '何调度 He' });
    const lead = await consoleAs({ sub: 's-9', role: 'supervisor', name: '孙主任 Sun' });
    for (const page of [desk, lead]) await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    // The driver presses the SOS button: alarm bit 0 of a location report.
    expect(await terminal.answerTo(terminal.report({ ...SITE, time: Math.floor(Date.now() / 1000 - 2) * 1000, alarm: 1 }))).toBe(0);
    const row = desk.locator(`#alerts [data-alert="sos"][data-device="${deviceId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    await row.locator('details[data-camera] summary').click();
    await expect.poll(() => row.locator('details[data-camera]').textContent(), { timeout: 10_000 }).toContain('No photos from this vehicle yet.');
    // The terminal takes the photo it is asked for, answers (0x0805) and uploads it.
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 120, b: 40 } } })
      .jpeg({ quality: 70 })
      .toBuffer();
    void terminal
      .next((m) => m.id === 0x8801, 30_000)
      .then((command) => {
        terminal.send(0x0805, Buffer.from([command.serial >> 8, command.serial & 0xff, 0, 0, 1, 0, 0, 0x13, 0x89]));
        terminal.upload({ id: 5001, event: 0, channel: command.body[0], fix: { ...SITE, time: Math.floor(Date.now() / 1000) * 1000 }, data: photo });
      });
    await row.locator('button[data-take-photo]').click();
    const shown = row.locator('a[data-photo="5001"] img');
    await shown.waitFor({ timeout: 30_000 });
    await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => row.locator('details[data-camera] [role="status"]').textContent(), { timeout: 10_000 }).toBe('Photo received 已收到照片');
    expect(await row.locator('a[data-photo="5001"]').textContent()).toContain('asked 指令拍照');
    expect(await accessibilityViolations(desk)).toEqual([]);
    // A supervisor sees the photo, with no button to ask for another.
    const leadRow = lead.locator(`#alerts [data-alert="sos"][data-device="${deviceId}"]`);
    await leadRow.locator('details[data-camera] summary').click();
    await leadRow.locator('a[data-photo="5001"]').waitFor();
    expect(await leadRow.locator('button[data-take-photo]').count()).toBe(0);
  });

  it('lets an admin register a device, shows its secret once with a QR code to set it up from, rotates and disables it', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const desk = await consoleAs({ sub: 'd-5', role: 'dispatcher', name: '周调度 Zhou' });
    expect(await desk.locator('#devices').isHidden()).toBe(true);
    const admin = await consoleAs({ sub: 'a-1', role: 'admin', name: '吴管理 Wu' });
    const devices = admin.locator('#devices');
    await devices.locator('form.register').waitFor();
    // A name is needed.
    await devices.locator('form.register button[type="submit"]').click();
    expect(await devices.locator('.status').textContent()).toBe('Give the device a name. 请填写设备名称。');
    await devices.locator('#device-name').fill('Badge for Worker Three');
    await devices.locator('#device-staff').selectOption('w-3');
    await devices.locator('#device-unit').selectOption('municipal');
    await devices.locator('form.register button[type="submit"]').click();
    const secret = devices.locator('.secret');
    await secret.locator('img[data-provisioning]').waitFor();
    const password = (await secret.locator('[data-password]').textContent())!;
    const [registered] = (await server.devices.list()).filter((d) => d.name === 'Badge for Worker Three');
    expect(registered).toMatchObject({ kind: 'badge', staffId: 'w-3', unitId: 'municipal', skills: ['road'], disabled: false });
    // The QR code holds what the device is set up from, the secret included.
    const readQr = async (selector: string) => {
      const img = secret.locator(selector);
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
      const { data, info } = await sharp(await img.screenshot())
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return jsQR(new Uint8ClampedArray(data), info.width, info.height)!.data;
    };
    expect(JSON.parse(await readQr('img[data-provisioning]'))).toEqual({
      civicloop: 'device',
      gateway: gw.url,
      tenantId: gw.tenant.id,
      deviceId: registered!.id,
      kind: 'badge',
      username: registered!.id,
      password,
      osmand: `${gw.url}/v1/osmand?id=${registered!.id}&key=${encodeURIComponent(password)}`,
    });
    // The OwnTracks code is the app's configuration link, read as OwnTracks for Android reads it
    // (URLDecoder on the parameter, then base64), and sets it up to report to this gateway.
    const ownTracksLink = await readQr('img[data-owntracks]');
    expect(ownTracksLink).toBe(await secret.locator('[data-owntracks-link]').getAttribute('href'));
    expect(ownTracksLink).toMatch(/^owntracks:\/\/\/config\?inline=[A-Za-z0-9%]+$/);
    const inline = decodeURIComponent(ownTracksLink.slice(ownTracksLink.indexOf('=') + 1).replace(/\+/g, ' '));
    const ownTracksConfig = JSON.parse(Buffer.from(inline, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(ownTracksConfig).toMatchObject({ _type: 'configuration', mode: 3, url: `${gw.url}/v1/owntracks`, auth: true, username: registered!.id, password });
    const tst = Math.floor(Date.now() / 1000) - 2;
    const posted = await fetch(String(ownTracksConfig.url), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ownTracksConfig.username}:${ownTracksConfig.password}`).toString('base64')}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ _type: 'location', lat: 23.131, lon: 113.321, tst, tid: ownTracksConfig.tid, topic: `owntracks/http/${ownTracksConfig.tid}` }),
    });
    expect(posted.status).toBe(200);
    expect(posted.headers.get('civicloop-telemetry')).toBeNull();
    expect(await accessibilityViolations(admin)).toEqual([]);
    await devices.scrollIntoViewIfNeeded();
    await devices.screenshot({ path: new URL('console-devices.png', shots).pathname });
    // The secret works (a phone posting a position with it), and is gone from the page once done.
    expect(
      (
        await fetch(
          `${gw.url}/v1/osmand?id=${registered!.id}&key=${encodeURIComponent(password)}&lat=23.13&lon=113.32&timestamp=${Math.floor(Date.now() / 1000)}`,
        )
      ).status,
    ).toBe(200);
    await secret.locator('button.close-secret').click();
    expect(await devices.locator('[data-password]').count()).toBe(0);

    // A new secret: the old one stops working.
    await devices.locator(`[data-rotate="${registered!.id}"]`).click();
    await secret.locator('[data-password]').waitFor();
    const rotated = (await secret.locator('[data-password]').textContent())!;
    expect(rotated).not.toBe(password);
    expect((await fetch(`${gw.url}/v1/osmand?id=${registered!.id}&key=${encodeURIComponent(password)}&lat=23.13&lon=113.32`)).status).toBe(401);
    // Disabled: refused even with the current secret; enabled again.
    await devices.locator(`[data-toggle="${registered!.id}"]`).click();
    await expect.poll(() => devices.locator(`[data-device="${registered!.id}"] [data-state]`).getAttribute('data-state')).toBe('disabled');
    expect((await server.devices.get(registered!.id)).disabled).toBe(true);
    expect((await fetch(`${gw.url}/v1/osmand?id=${registered!.id}&key=${encodeURIComponent(rotated)}&lat=23.13&lon=113.32`)).status).toBe(403);
    await devices.locator(`[data-toggle="${registered!.id}"]`).click();
    await expect.poll(() => devices.locator(`[data-device="${registered!.id}"] [data-state]`).getAttribute('data-state')).toBe('enabled');
  });
  it('lets an admin make a provisioning profile held to its batch, show its secret once, give it a new one and delete it, each on a second press', async () => {
    const desk = await consoleAs({ sub: 'd-7', role: 'dispatcher', name: '冯调度 Feng' });
    expect(await desk.locator('#provisioning').isHidden()).toBe(true);
    const admin = await consoleAs({ sub: 'a-2', role: 'admin', name: '陈管理 Chen' });
    const section = admin.locator('#provisioning');
    await section.locator('form.register').waitFor();
    await section.locator('form.register button[type="submit"]').click();
    expect(await section.locator('.status').textContent()).toBe('Give the profile a name. 请填写配置名称。');
    await section.locator('#profile-name').fill('Badges, batch 2026-12');
    await section.locator('#profile-unit').selectOption('sanitation');
    await section.locator('#profile-max-devices').fill('2');
    await section.locator('form.register button[type="submit"]').click();
    const secret = section.locator('.secret');
    await secret.locator('[data-provision-secret]').waitFor();
    const key = (await secret.locator('[data-provision-key]').textContent())!;
    const provisionDeviceSecret = (await secret.locator('[data-provision-secret]').textContent())!;
    // The request shown is the one a device sends: made with it, a badge registers itself.
    const request = JSON.parse((await secret.locator('[data-provision-request]').textContent())!) as Record<string, string>;
    expect(request).toEqual({ deviceName: 'DEVICE_NAME', provisionDeviceKey: key, provisionDeviceSecret });
    const answer = await fetch(`${gw.url}/api/v1/provision`, { method: 'POST', body: JSON.stringify({ ...request, deviceName: 'badge-console-1' }) });
    expect(await answer.json()).toMatchObject({ status: 'SUCCESS' });
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    expect((await server.devices.list()).find((d) => d.name === 'badge-console-1')).toMatchObject({ kind: 'badge', unitId: 'sanitation' });
    const row = section.locator(`tr[data-profile]`, { hasText: 'Badges, batch 2026-12' });
    expect(await row.textContent()).toContain(key);
    expect(await row.locator('[data-registered]').textContent()).toBe('0 / 2');
    expect(await accessibilityViolations(admin)).toEqual([]);
    // Hidden once done, and never shown again: the list has the key only.
    await secret.locator('button.close-secret').click();
    expect(await secret.isHidden()).toBe(true);
    expect(await section.textContent()).not.toContain(provisionDeviceSecret);

    // A new secret (the old one leaked) asks first; pressed again, it is shown once and the old one provisions nothing more.
    await row.locator('button[data-rotate]').click();
    expect(await row.locator('button[data-rotate]').textContent()).toBe('New secret: press again 再按一次确认更换');
    await row.locator('button[data-rotate]').click();
    await secret.locator('[data-provision-secret]').waitFor();
    expect(await secret.locator('h3').textContent()).toBe('New secret 新密钥: Badges, batch 2026-12');
    const newSecret = (await secret.locator('[data-provision-secret]').textContent())!;
    expect(newSecret).not.toBe(provisionDeviceSecret);
    // The list is read again after the new secret: one registered so far.
    await expect.poll(() => row.locator('[data-registered]').textContent(), { timeout: 10_000 }).toBe('1 / 2');
    const withOld = await fetch(`${gw.url}/api/v1/provision`, { method: 'POST', body: JSON.stringify({ ...request, deviceName: 'badge-console-3' }) });
    expect(await withOld.json()).toMatchObject({ status: 'NOT_FOUND' });
    const withNew = { ...request, provisionDeviceSecret: newSecret };
    expect(
      await (await fetch(`${gw.url}/api/v1/provision`, { method: 'POST', body: JSON.stringify({ ...withNew, deviceName: 'badge-console-3' }) })).json(),
    ).toMatchObject({ status: 'SUCCESS' });
    await secret.locator('button.close-secret').click();
    // Deleting asks first; pressed again, the profile is gone and its key provisions nothing more.
    await row.locator('button[data-delete]').click();
    expect(await row.locator('button[data-delete]').textContent()).toBe('Delete: press again 再按一次确认删除');
    expect(await server.provisioningProfiles.list()).toHaveLength(1);
    await row.locator('button[data-delete]').click();
    await expect.poll(() => section.locator('tr[data-profile]').count()).toBe(0);
    expect(await server.provisioningProfiles.list()).toEqual([]);
    const refused = await fetch(`${gw.url}/api/v1/provision`, { method: 'POST', body: JSON.stringify({ ...withNew, deviceName: 'badge-console-2' }) });
    expect(await refused.json()).toMatchObject({ status: 'NOT_FOUND' });
  });

  it('lets an admin add a unit and a person to the directory and take a person out of service', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const admin = await consoleAs({ sub: 'a-2', role: 'admin', name: '郑管理 Zheng' });
    const directory = admin.locator('#directory');
    await directory.locator('[data-unit="sanitation"]').waitFor();
    await directory.locator('#unit-id').fill('parks');
    await directory.locator('#unit-name').fill('Parks 园林');
    await directory.locator('#unit-categories').fill('greenery.fallen_tree, greenery.dangerous_branch');
    await directory.locator('form.register').first().locator('button[type="submit"]').click();
    await directory.locator('[data-unit="parks"]').waitFor();
    expect(await server.units.list()).toContainEqual(
      expect.objectContaining({ id: 'parks', name: 'Parks 园林', categories: ['greenery.fallen_tree', 'greenery.dangerous_branch'], active: true }),
    );

    // The new unit is offered at once for the new person.
    await directory.locator('#staff-name').click();
    await directory.locator('#staff-id').fill('w-zhao');
    await directory.locator('#staff-name').fill('赵师傅 Zhao');
    await directory.locator('#staff-unit').selectOption('parks');
    await directory.locator('#staff-skills').fill('pruning mowing');
    await directory.locator('form.register').nth(1).locator('button[type="submit"]').click();
    await directory.locator('[data-staff="w-zhao"]').waitFor();
    expect((await server.staff.list()).find((p) => p.id === 'w-zhao')).toMatchObject({
      name: '赵师傅 Zhao',
      role: 'worker',
      unitId: 'parks',
      skills: ['pruning', 'mowing'],
      active: true,
    });
    // A second person with the same id is refused, with the code.
    await directory.locator('#staff-id').fill('w-zhao');
    await directory.locator('#staff-name').fill('Someone else');
    await directory.locator('form.register').nth(1).locator('button[type="submit"]').click();
    await expect.poll(() => directory.locator('.status').textContent()).toMatch(/\(CL_ERR_ALREADY_EXISTS\)$/);
    expect(await accessibilityViolations(admin)).toEqual([]);

    // Out of service: no longer dispatched to.
    await directory.locator('[data-toggle-staff="w-zhao"]').click();
    await expect.poll(() => directory.locator('[data-staff="w-zhao"] [data-state]').getAttribute('data-state')).toBe('inactive');
    const ticket = await server.tickets.create({ ...BIN_REPORT, location: metersNorth(5000) });
    await expect(server.tickets.dispatch(ticket.id, { unitId: 'parks', assigneeId: 'w-zhao' })).rejects.toMatchObject({ code: 'CL_ERR_UNKNOWN_STAFF' });
  });

  it("shows a report's answers to its category's questions, and the category as it was reported", async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    await server.catalogue.define('municipal.broken_bench', {
      group: 'municipal',
      name: { 'zh-CN': '座椅损坏', en: 'Broken bench' },
      defaultPriority: 'normal',
      sla: { respond: 120, arrive: 1440, resolve: 4320 },
      skills: ['repair'],
      private: false,
      questions: [
        {
          code: 'material',
          datatype: 'singlevaluelist',
          required: true,
          order: 1,
          description: { 'zh-CN': '材质', en: 'Material' },
          values: [
            { key: 'wood', name: { 'zh-CN': '木', en: 'Wood' } },
            { key: 'stone', name: { 'zh-CN': '石', en: 'Stone' } },
          ],
        },
        { code: 'seats', datatype: 'number', required: false, order: 2, description: { 'zh-CN': '座位数', en: 'Seats' } },
      ],
    });
    const ticket = await server.tickets.create({
      category: 'municipal.broken_bench',
      description: 'Bench split in two',
      location: metersNorth(6000),
      answers: { material: 'wood', seats: 3 },
    });
    // Renamed after the report: the ticket keeps the name it was reported under.
    await server.catalogue.change('municipal.broken_bench', { name: { 'zh-CN': '公共座椅', en: 'Public seating' } });
    const desk = await consoleAs({ sub: 'd-9', role: 'dispatcher', name: '林调度 Lin' });
    await card(desk, ticket.id).locator('button').click();
    await expect.poll(() => dialog(desk).locator('#detail-title').textContent()).toBe(`${ticket.number} 座椅损坏 Broken bench`);
    const answers = dialog(desk).locator('dl.answers');
    expect(await answers.locator('dt').allTextContents()).toEqual(['材质 Material', '座位数 Seats']);
    expect(await answers.locator('dd').allTextContents()).toEqual(['木 Wood', '3']);
    expect(await accessibilityViolations(desk)).toEqual([]);
  });

  it('shows a step a worker took offline at the time it was done, and its deadline met by it', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const ticket = await server.tickets.create({ ...BIN_REPORT, location: metersNorth(6200) });
    await server.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-1' });
    const worker = new CivicLoop({
      baseUrl: gw.url,
      apiKey: gw.tenant.publishableKey,
      token: await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' }),
    });
    // Accepted on the phone the moment it was dispatched, and sent a little later.
    const takenAt = (await server.tickets.get(ticket.id)).dispatchedAt!;
    await worker.tickets.accept(ticket.id, { occurredAt: takenAt });
    const desk = await consoleAs({ sub: 'd-11', role: 'dispatcher', name: '林调度 Lin' });
    await card(desk, ticket.id).locator('button').click();
    await expect.poll(() => dialog(desk).locator('#detail-title').textContent()).toContain(ticket.number);
    const accepted = dialog(desk).locator('.history li').filter({ hasText: '离线完成' });
    await expect.poll(() => accepted.count()).toBe(1);
    expect(await accepted.locator('time.done-offline').getAttribute('datetime')).toBe(takenAt);
    expect(await dialog(desk).locator('[data-deadline="respond"] td').last().textContent()).toBe('Met 按时');
  });

  it('shows when a hotline case was received, beside when the import made its ticket', async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const imported = await server.intake.hotline([
      {
        source: '12345',
        externalId: 'GZ-CONSOLE-1',
        category: 'municipal.street_light',
        description: 'Street light out, caller on the line at 09:15',
        ...metersNorth(6100),
        receivedAt: '2026-11-30 09:15',
      },
    ]);
    const ticket = await server.tickets.get(imported.created[0]!.id);
    const desk = await consoleAs({ sub: 'd-10', role: 'dispatcher', name: '林调度 Lin' });
    await card(desk, ticket.id).locator('button').click();
    await expect.poll(() => dialog(desk).locator('#detail-title').textContent()).toContain(ticket.number);
    const facts = dialog(desk).locator('dl.facts');
    const terms = await facts.locator('dt').allTextContents();
    const values = await facts.locator('dd').allTextContents();
    // The tenant's zone (Asia/Shanghai): the wall clock the hotline wrote.
    expect(values[terms.indexOf('Call received 来电')]).toBe('11/30 09:15');
    expect(values[terms.indexOf('Reported 上报')]).toMatch(/ · /);
  });

  it("shows, while a ticket waits to be accepted, whether the worker's device has the assignment", async () => {
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    await gw.services.directory.createStaff(gw.tenant.id, { id: 'w-6', name: 'Worker Six', role: 'worker', unitId: 'sanitation' });
    await gw.services.directory.createStaff(gw.tenant.id, { id: 'w-7', name: 'Worker Seven', role: 'worker', unitId: 'sanitation' });
    const registered = await server.devices.register({ kind: 'badge', name: 'Badge 6', staffId: 'w-6', unitId: 'sanitation' });
    const toSix = await server.tickets.create({ ...BIN_REPORT, location: metersNorth(7100) });
    await server.tickets.dispatch(toSix.id, { unitId: 'sanitation', assigneeId: 'w-6' });
    const toSeven = await server.tickets.create({ ...BIN_REPORT, location: metersNorth(7300) });
    await server.tickets.dispatch(toSeven.id, { unitId: 'sanitation', assigneeId: 'w-7' });
    // Worker Eight's badge is disabled: a dispatch sends it nothing.
    await gw.services.directory.createStaff(gw.tenant.id, { id: 'w-8', name: 'Worker Eight', role: 'worker', unitId: 'sanitation' });
    const eight = await server.devices.register({ kind: 'badge', name: 'Badge 8', staffId: 'w-8', unitId: 'sanitation' });
    await server.devices.update(eight.device.id, { disabled: true });
    const toEight = await server.tickets.create({ ...BIN_REPORT, location: metersNorth(7500) });
    await server.tickets.dispatch(toEight.id, { unitId: 'sanitation', assigneeId: 'w-8' });
    expect((await server.devices.state(eight.device.id)).waiting).toEqual([]);

    const desk = await consoleAs({ sub: 'd-11', role: 'dispatcher', name: '林调度 Lin' });
    const deviceFacts = async (ticketId: string, number: string) => {
      await card(desk, ticketId).locator('button').click();
      await expect.poll(() => dialog(desk).locator('#detail-title').textContent()).toContain(number);
      const facts = dialog(desk).locator('dl.facts');
      await facts.locator('dt', { hasText: 'Device 设备' }).first().waitFor();
      const [terms, values] = [await facts.locator('dt').allTextContents(), await facts.locator('dd').allTextContents()];
      await closeDetail(desk);
      return values.filter((_, i) => terms[i] === 'Device 设备');
    };
    // The badge is switched off: the assignment waits for it, and the dispatcher sees since when.
    expect(await deviceFacts(toSix.id, toSix.number)).toEqual([expect.stringMatching(/^Badge 6: not yet received since \d{2}\/\d{2} \d{2}:\d{2} 未送达$/)]);
    // Worker Seven has no device at all: nothing will reach them.
    expect(await deviceFacts(toSeven.id, toSeven.number)).toEqual(['None: the assignment reaches no device; phone the worker. 无设备，请电话通知']);
    expect(await deviceFacts(toEight.id, toEight.number)).toEqual(['Badge 8: disabled, sent nothing 已停用']);

    // The badge comes on and takes its commands: the assignment reaches it.
    const six = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.telemetry!.tcpPort}`, {
      username: registered.credential.username,
      password: registered.credential.password,
      reconnectPeriod: 0,
    });
    closers.push(() => six.endAsync());
    const received = new Promise<string>((resolve) => six.once('message', (_topic, payload) => resolve(payload.toString())));
    await six.subscribeAsync(nativeTopic(gw.tenant.id, 'badge', registered.device.id, 'cmd'), { qos: 1 });
    expect(JSON.parse(await received)).toMatchObject({ type: 'assignment', ticketId: toSix.id });
    await expect.poll(async () => (await server.devices.state(registered.device.id)).waiting).toEqual([]);
    expect(await deviceFacts(toSix.id, toSix.number)).toEqual(['Badge 6: nothing waiting 无待送达']);
  });
});
