#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CivicLoopError } from '@civicloop/model';
import { SETTINGS, loadConfig } from './config.js';
import { demoToken, seedDemo } from './demo.js';
import { startGateway } from './server.js';

const HELP = `civicloop-gateway [start] [--demo]

Starts the CivicLoop gateway (HTTP API on PORT, default 8080). With REDIS_URL unset it runs its
own redis-server with AOF on and data under DATA_DIR (default ./.data).

  --demo     create the demo tenant (once) and print its keys, tokens and URLs
  --help     this text

Environment:
${SETTINGS.map((s) => `  ${s.env.padEnd(26)} ${s.default === undefined ? '(unset)' : `default ${s.default}`}\n      ${s.doc}`).join('\n')}
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { demo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || (positionals[0] && positionals[0] !== 'start')) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadConfig();
  const gateway = await startGateway({ config });
  const shutdown = (signal: string) => {
    gateway.app.log.info({ signal }, 'shutting down: draining requests');
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.app.log.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  const lines = [
    '',
    `CivicLoop gateway listening on ${gateway.url}`,
    `  OpenAPI:   ${gateway.url}/v1/openapi.json`,
    `  Health:    ${gateway.url}/v1/health`,
    gateway.mqtt ? `  MQTT:      mqtt://${config.host}:${gateway.mqtt.tcpPort} and ws://${config.host}:${gateway.mqtt.wsPort} (devices: POST /v1/devices)` : '  MQTT:      disabled (MQTT_ENABLED=false)',
    gateway.embeddedRedis
      ? `  Redis:     embedded ${gateway.embeddedRedis.url} (AOF on, data in ${gateway.embeddedRedis.dir})`
      : `  Redis:     ${config.redisUrl}`,
  ];
  if (values.demo) {
    const demo = await seedDemo(gateway.services, config.dataDir);
    const dispatcher = await demoToken(demo, 'd-wang', 'dispatcher');
    const resident = await demoToken(demo, 'resident-001', 'citizen');
    lines.push(
      '',
      `Demo tenant ${demo.code} (${demo.tenantId}); keys are kept in ${config.dataDir}/demo-tenant.json`,
      `  Secret key (servers only):  ${demo.secretKey}`,
      `  Publishable key (browsers): ${demo.publishableKey}`,
      `  Dispatcher token (1 h):     ${dispatcher}`,
      `  Resident token (1 h):       ${resident}`,
      '',
      'Try it:',
      `  curl -s ${gateway.url}/v1/categories -H 'X-CivicLoop-Key: ${demo.publishableKey}' | head -c 300; echo`,
      `  curl -s ${gateway.url}/v1/tickets -H 'Authorization: Bearer ${demo.secretKey}' -H 'Content-Type: application/json' \\`,
      `    -d '{"category":"sanitation.bin_overflow","description":"Bin overflowing at the bus stop","location":{"lat":23.1321,"lon":113.3271}}'`,
      `  curl -sN ${gateway.url}/v1/events -H 'Authorization: Bearer ${demo.secretKey}'   # live events`,
    );
  }
  lines.push('', 'Ctrl-C stops the gateway (in-flight requests finish first).', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (error instanceof CivicLoopError) {
    process.stderr.write(`\n${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
