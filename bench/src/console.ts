/**
 * npm run bench:console: the command centre's console (examples/dispatcher-console) in Debian's
 * Chromium with the CPU throttled 4x (a mid-range phone's, as Lighthouse's mobile profile does),
 * against a gateway holding BENCH_TICKETS (2,000) open tickets, beside the same page with 20
 * (the baseline) in the same run. Two measures, each the median of BENCH_ROUNDS (3) page loads:
 *
 * - first render: from navigation start to the moment the board, map, figures and side panels
 *   are drawn (the page's `console-ready` performance mark); target under 1 s with 2,000;
 * - idle CPU: main-thread task time over BENCH_IDLE_SECONDS (10) of a page left alone once
 *   ready (the clock and countdowns tick each second), as a share of wall time; target under 5 %.
 */
import { CHROMIUM } from '@civicloop/test-support/browser.js';
import { startPageGateway } from './page-gateway.js';
import { chromium, type Browser } from 'playwright-core';
import { startConsole } from '@civicloop/example-dispatcher-console/server';

const manyTickets = Number(process.env.BENCH_TICKETS ?? 2000);
const fewTickets = 20;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const THROTTLE = 4;

const { gateway, stop: stopGateway } = await startPageGateway('console');
const consoles: { close(): Promise<void> }[] = [];

/** A tenant with `count` open tickets spread over Tianhe, half of them dispatched, and its console. */
async function tenantWith(code: string, count: number): Promise<string> {
  const { tenant, secretKey, publishableKey } = await gateway.services.tenants.create({ code, name: `Bench ${code}` });
  await gateway.services.directory.createUnit(tenant.id, { id: 'sanitation', name: 'Sanitation', categories: ['sanitation.bin_overflow'] });
  await gateway.services.zones.create(
    tenant.id,
    {
      id: 'tianhe',
      name: 'Tianhe',
      type: 'district',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [113.3, 23.09],
            [113.36, 23.09],
            [113.36, 23.16],
            [113.3, 23.16],
            [113.3, 23.09],
          ],
        ],
      },
    },
    new Date(),
  );
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${gateway.url}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  const categories = ['sanitation.bin_overflow', 'sanitation.scattered_litter', 'sanitation.street_dirty', 'order.illegal_posting', 'municipal.street_light'];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        const ticket = await post('/v1/tickets', {
          category: categories[i % categories.length],
          description: `Bench report ${i}`,
          location: { lat: 23.09 + ((i * 7919) % 7000) / 100_000, lon: 113.3 + ((i * 104_729) % 6000) / 100_000 },
        });
        if (i % 2 === 0) await post(`/v1/tickets/${ticket.id}/dispatch`, { unitId: 'sanitation' });
      }
    }),
  );
  const server = await startConsole({ gatewayUrl: gateway.url, secretKey, publishableKey });
  consoles.push(server);
  await gateway.services.tenants.updatePolicy(tenant.id, { allowedOrigins: [new URL(server.url).origin] });
  return server.url;
}

interface Sample {
  firstRenderMs: number;
  idleCpuPercent: number;
  cards: number;
}

async function measure(browser: Browser, url: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  await cdp.send('Performance.enable');
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 120_000 });
  const firstRenderMs = await page.evaluate(() => performance.getEntriesByName('console-ready')[0]!.startTime);
  const cards = await page.locator('#columns [data-ticket]').count();
  await page.waitForTimeout(2000);
  const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
  const before = await taskSeconds();
  const started = Date.now();
  await page.waitForTimeout(idleSeconds * 1000);
  const idleCpuPercent = (100 * (await taskSeconds()) - 100 * before) / ((Date.now() - started) / 1000);
  await context.close();
  return { firstRenderMs, idleCpuPercent, cards };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

try {
  const seedStarted = Date.now();
  const [few, many] = [await tenantWith('FEW', fewTickets), await tenantWith('MANY', manyTickets)];
  console.log(`seeded ${fewTickets} and ${manyTickets} open tickets in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
  const browser = await chromium.launch(CHROMIUM);
  const samples = { few: [] as Sample[], many: [] as Sample[] };
  for (let round = 1; round <= rounds; round++) {
    // Alternating, so a busy moment on this machine falls on both sides alike.
    samples.few.push(await measure(browser, few));
    samples.many.push(await measure(browser, many));
    const [f, m] = [samples.few.at(-1)!, samples.many.at(-1)!];
    console.log(
      `round ${round}: ${m.cards} cards ${m.firstRenderMs.toFixed(0)} ms ${m.idleCpuPercent.toFixed(2)} ` +
        `% idle CPU; ${f.cards} cards ${f.firstRenderMs.toFixed(0)} ms ${f.idleCpuPercent.toFixed(2)} %`,
    );
  }
  await browser.close();
  const render = { many: median(samples.many.map((s) => s.firstRenderMs)), few: median(samples.few.map((s) => s.firstRenderMs)) };
  const idle = { many: median(samples.many.map((s) => s.idleCpuPercent)), few: median(samples.few.map((s) => s.idleCpuPercent)) };
  console.log('');
  console.log(
    `console first render (${THROTTLE}x CPU throttle): ${render.many.toFixed(0)} ms with ${manyTickets} open tickets, baseline ${render.few.toFixed(0)} ` +
      `ms with ${fewTickets}, ratio ${(render.many / render.few).toFixed(2)} (target under 1000 ms: ${render.many < 1000 ? 'met' : 'not met'})`,
  );
  console.log(
    `console idle CPU (${THROTTLE}x CPU throttle): ${idle.many.toFixed(2)} % with ${manyTickets} open tickets, baseline ${idle.few.toFixed(2)} ` +
      `% with ${fewTickets}, ratio ${(idle.many / Math.max(idle.few, 0.01)).toFixed(2)} (target under 5 %: ${idle.many < 5 ? 'met' : 'not met'})`,
  );
} finally {
  for (const server of consoles) await server.close();
  await stopGateway();
}
