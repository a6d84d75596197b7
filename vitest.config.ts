import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

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
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'docs/**/*.test.ts', 'test-support/**/*.test.ts'],
    testTimeout: 30_000,
    // Polls wait on a browser or a gateway that shares two cores with the whole suite: 1 s (the
    // default) is too short there, and a poll that succeeds returns at once anyway.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test-support/global-setup.ts'],
  },
});
