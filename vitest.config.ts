import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/**
 * The test projects, so a change can be tested in seconds before the whole suite:
 *
 * - `unit`: no Redis, no broker, no browser, nothing installed beyond npm's packages
 *   (`npx vitest run --project unit`);
 * - `redis`: a real redis-server (and for some, mosquitto, a Redis Cluster, a gateway process,
 *   libsodium through Debian's python3-nacl, or npm packing and installing the published packages);
 * - `browser`: Debian's Chromium through playwright-core.
 *
 * A test file's project is read from what it uses, so a new test lands in the right one without
 * being listed: one that drives Chromium is `browser`; one that starts Redis, a broker or a
 * gateway (test-support's harnesses, `startRedisServer`, `buildApp`, `startGateway`), seals with
 * libsodium or packs packages is `redis`; the rest are `unit`.
 */
const ROOTS = ['packages', 'examples', 'docs', 'test-support'];
const USES_BROWSER = /test-support\/browser|playwright-core/;
const USES_SERVICES = /gateway-harness|gateway-process|startRedisServer|buildApp|startGateway|connectRedis|mosquitto|libsodium-seal|'npm', \['pack'/;

function testFiles(): Record<'unit' | 'redis' | 'browser', string[]> {
  const out = { unit: [] as string[], redis: [] as string[], browser: [] as string[] };
  for (const root of ROOTS) {
    for (const entry of readdirSync(root, { recursive: true }) as string[]) {
      const file = `${root}/${entry}`;
      if (!file.endsWith('.test.ts') || file.includes('node_modules/') || file.includes('/dist/')) continue;
      const text = readFileSync(file, 'utf8');
      out[USES_BROWSER.test(text) ? 'browser' : USES_SERVICES.test(text) ? 'redis' : 'unit'].push(file);
    }
  }
  return out;
}

const files = testFiles();
// Finds (or, as root on Debian, installs) redis-server, mosquitto, Chromium and Perl's modules once.
const services = ['test-support/global-setup.ts'];

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a change is tested without rebuilding dist/.
    alias: {
      '@civicloop/sdk/device': fileURLToPath(new URL('./packages/sdk/src/device.ts', import.meta.url)),
      '@civicloop/sdk/wechat': fileURLToPath(new URL('./packages/sdk/src/wechat.ts', import.meta.url)),
      '@civicloop/model/report': fileURLToPath(new URL('./packages/model/src/report.ts', import.meta.url)),
      '@civicloop/model/token': fileURLToPath(new URL('./packages/model/src/token.ts', import.meta.url)),
      '@civicloop/model/crs': fileURLToPath(new URL('./packages/model/src/crs.ts', import.meta.url)),
      '@civicloop/model': src('model'),
      '@civicloop/sdk': src('sdk'),
      '@civicloop/gateway': src('gateway'),
    },
  },
  test: {
    testTimeout: 30_000,
    // Polls wait on a browser or a gateway that shares two cores with the whole suite: 1 s (the
    // default) is too short there, and a poll that succeeds returns at once anyway.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { threads: { isolate: false } },
    projects: [
      // The unit project runs in worker threads that keep their module cache from one test file to
      // the next (poolOptions.threads.isolate above): 28 s down to 13 s on two cores. vitest decides
      // isolation per pool, not per project, so the other projects keep isolated forks. Each unit
      // test file therefore undoes what it changes globally (vi.unstubAllGlobals, useRealTimers in
      // a finally, an msw server closed in afterAll).
      { extends: true, test: { name: 'unit', include: files.unit, pool: 'threads' } },
      { extends: true, test: { name: 'redis', include: files.redis, globalSetup: services } },
      { extends: true, test: { name: 'browser', include: files.browser, globalSetup: services } },
    ],
  },
});
