// Builds nothing itself (npm test builds first): starts a gateway with its own redis-server in a
// temporary data directory, runs examples/node-sdk against it, and fails if the example fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, seedDemo, startGateway } from '@civicloop/gateway';

const dataDir = mkdtempSync(path.join(tmpdir(), 'civicloop-example-'));
const gateway = await startGateway({
  config: loadConfig({ DATA_DIR: dataDir, PORT: '0', MQTT_PORT: '0', MQTT_WS_PORT: '0', JT808_PORT: 'false', LOG_LEVEL: 'warn' }),
  log: () => {},
});
let code = 1;
try {
  const demo = await seedDemo(gateway.services, dataDir);
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['examples/node-sdk/dist/walk-the-loop.js'], {
      stdio: 'inherit',
      env: { ...process.env, CIVICLOOP_URL: gateway.url, CIVICLOOP_SECRET_KEY: demo.secretKey },
    });
    child.on('exit', (exitCode) => resolve(exitCode ?? 1));
  });
} finally {
  await gateway.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(code === 0 ? '\nexamples/node-sdk: ok' : `\nexamples/node-sdk: failed with exit code ${code}`);
process.exit(code);
