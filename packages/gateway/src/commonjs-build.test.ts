import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';

const run = promisify(execFile);
// The build the test command makes before the tests (npm test: turbo run build, then vitest).
const commonJs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => redis?.stop());

// A CommonJS program using the gateway: the files it finds beside its own module (the widget's,
// the statistics thread's) must be found from dist/index.cjs as from dist/index.js.
const PROGRAM = `
const gateway = require(${JSON.stringify(commonJs)});
(async () => {
  const env = { REDIS_URL: process.env.REDIS_URL, PORT: '0', MQTT_ENABLED: 'false', JT808_PORT: 'false', LOG_LEVEL: 'silent', SCHEDULER_POLL_MS: '50' };
  const config = gateway.loadConfig(env);
  const redis = await gateway.connectRedis({ url: env.REDIS_URL, cluster: false });
  const app = await gateway.buildApp({ config, redis, masterKey: 'commonjs-test', logger: false });
  const widget = (await app.app.inject({ method: 'GET', url: '/widget/loader.js' })).statusCode;
  await app.app.close();
  redis.disconnect();
  const started = await gateway.startGateway({ config, log: () => undefined, logger: false });
  const until = Date.now() + 15000;
  while (!started.statsThread.counting && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
  const thread = started.statsThread.counting;
  await started.close();
  console.log(JSON.stringify({ widget, thread }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

describe("the gateway's CommonJS build", () => {
  it('serves the widget and counts the statistics on their thread, as the ES module build does', async () => {
    const { stdout } = await run(process.execPath, ['-e', PROGRAM], { env: { ...process.env, REDIS_URL: redis.url }, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ widget: 200, thread: true });
  });
});
