import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, startGateway, type RunningGateway } from '@civicloop/gateway';

/**
 * The gateway the page benchmarks (bench:console, bench:worker-app) load their pages against: in
 * this process, with its embedded redis-server in a temporary directory, HTTP only (no MQTT, no
 * JT/T 808), quiet, and without rate limits (one address loads the pages again and again).
 */
export async function startPageGateway(name: string): Promise<{ gateway: RunningGateway; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `civicloop-bench-${name}-`));
  const gateway = await startGateway({
    config: loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      MQTT_ENABLED: 'false',
      JT808_PORT: 'false',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_KEY: '0',
      RATE_LIMIT_PER_ADDRESS: '0',
    }),
    log: () => undefined,
    logger: false,
  });
  return {
    gateway,
    async stop() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
