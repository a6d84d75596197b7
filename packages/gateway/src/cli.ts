#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CivicLoopError } from '@civicloop/model';
import { SETTINGS, loadConfig } from './core/config.js';
import { demoToken, seedDemo } from './demo.js';
import { freePort } from './redis/embedded-redis.js';
import { startGateway } from './server.js';

const HELP = `civicloop-gateway [start] [--demo]

Starts the CivicLoop gateway (HTTP API on PORT, default 8080). With REDIS_URL unset it runs its
own redis-server with AOF on and data under DATA_DIR (default ./.data).

  --demo         create the demo tenant (once, with its units, staff and the Tianhe zone that
                 routes reports) and print its keys, tokens and URLs
  --no-simulate  with --demo: do not run examples/fleet-simulator (by default it runs against
                 the demo: vehicles and badge wearers in Tianhe, Guangzhou, who work every
                 ticket dispatched to them, so a report made in the portal is routed,
                 worked, verified and closed by itself)

With --demo it also serves examples/property-portal (a residents' portal that embeds the report
widget with one script tag) on DEMO_PORTAL_PORT, examples/dispatcher-console (the command
centre's live board that acts on tickets) on DEMO_CONSOLE_PORT, and examples/worker-app (the field
workers' phone app) on DEMO_WORKER_APP_PORT.
  --help       this text

Environment:
${SETTINGS.map((s) => `  ${s.env.padEnd(26)} ${s.default === undefined ? '(unset)' : `default ${s.default}`}\n      ${s.doc}`).join('\n')}
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { demo: { type: 'boolean' }, simulate: { type: 'boolean', default: true }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    allowNegative: true,
  });
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
    config.mqttBrokerUrl
      ? `  MQTT:      external broker ${redactUrl(config.mqttBrokerUrl)} as ${gateway.services.telemetry?.externalBroker ?? '?'}, shared ` +
        `subscription group ${config.mqttBrokerShareGroup}${config.mqttBrokerDynsec ? ', device accounts in its dynamic security plugin' : ''}`
      : gateway.mqtt
        ? `  MQTT:      mqtt://${config.host}:${gateway.mqtt.tcpPort} and ws://${config.host}:${gateway.mqtt.wsPort} (devices: POST /v1/devices)`
        : '  MQTT:      disabled (MQTT_ENABLED=false)',
    gateway.jt808Port !== undefined
      ? `  JT/T 808:  tcp://${config.host}:${gateway.jt808Port} (terminals: POST /v1/devices with protocol "jt808")`
      : '  JT/T 808:  disabled (JT808_PORT=0)',
    gateway.embeddedRedis
      ? `  Redis:     embedded ${gateway.embeddedRedis.url} (AOF on, data in ${gateway.embeddedRedis.dir})`
      : `  Redis:     ${config.redisUrl}`,
  ];
  const demo = values.demo ? await seedDemo(gateway.services, config.dataDir) : undefined;
  const portalPort = demo ? config.demoPortalPort || (await freePort()) : 0;
  const consolePort = demo ? config.demoConsolePort || (await freePort()) : 0;
  const workerAppPort = demo ? config.demoWorkerAppPort || (await freePort()) : 0;
  if (demo) {
    // The portal's, the console's and the worker app's pages call the API from the browser: their origins must be allowed.
    const origins = [portalPort, consolePort, workerAppPort].flatMap((port) => [`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
    const { policy } = (await gateway.services.tenants.context(demo.tenantId))!.tenant;
    await gateway.services.tenants.updatePolicy(demo.tenantId, { allowedOrigins: [...new Set([...policy.allowedOrigins, ...origins])] });
    const dispatcher = await demoToken(demo, 'd-wang', 'dispatcher');
    const resident = await demoToken(demo, 'resident-001', 'citizen');
    lines.push(
      '',
      `Demo tenant ${demo.code} (${demo.tenantId}); keys are kept in ${config.dataDir}/demo-tenant.json`,
      `  Secret key (servers only):  ${demo.secretKey}`,
      `  Publishable key (browsers): ${demo.publishableKey}`,
      `  Dispatcher token (1 h):     ${dispatcher}`,
      `  The property portal is partner ${demo.partner!.id} (its own keys in the same file; docs/partners.md)`,
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
  if (demo) {
    const keys = { CIVICLOOP_URL: gateway.url, CIVICLOOP_SECRET_KEY: demo.secretKey, CIVICLOOP_PUBLISHABLE_KEY: demo.publishableKey };
    // The portal is a partner of the district: it gets the partner's keys, not the tenant's.
    startExample('examples/property-portal/dist/main.js', {
      CIVICLOOP_URL: gateway.url,
      CIVICLOOP_PARTNER_SECRET_KEY: demo.partner!.secretKey,
      CIVICLOOP_PARTNER_PUBLISHABLE_KEY: demo.partner!.publishableKey,
      PORTAL_PORT: String(portalPort),
    });
    // The demo's console acts as a command-centre lead (admin), so every step, verifying included,
    // can be tried from one page; behind a city's sign-in each operator has their own role.
    startExample('examples/dispatcher-console/dist/main.js', {
      ...keys,
      CONSOLE_PORT: String(consolePort),
      CONSOLE_ROLE: 'admin',
      CONSOLE_OPERATOR: 'demo-lead',
      CONSOLE_OPERATOR_NAME: '值班长 Demo lead',
    });
    // Phones connect as badges over MQTT on WebSocket: the embedded broker's, when it runs.
    startExample('examples/worker-app/dist/main.js', {
      ...keys,
      WORKER_APP_PORT: String(workerAppPort),
      ...(gateway.mqtt ? { DEVICE_WS_URL: `ws://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${gateway.mqtt.wsPort}` } : {}),
    });
  }
  // The simulator's devices connect where devices connect: the embedded broker, or the external one.
  const deviceBroker = config.mqttBrokerUrl ?? (gateway.mqtt ? `mqtt://127.0.0.1:${gateway.mqtt.tcpPort}` : undefined);
  if (values.simulate && demo && deviceBroker) {
    startSimulator(gateway.url, deviceBroker, demo.secretKey);
  } else if (values.simulate && demo) {
    process.stderr.write('No fleet simulator: it needs MQTT_ENABLED=true or MQTT_BROKER_URL; reports stay with the units until someone works them.\n');
  }
}

/** Serves an example beside the gateway (they print their own URL once listening); examples are optional. */
function startExample(relativeScript: string, env: Record<string, string>): void {
  const script = path.resolve(relativeScript);
  if (!existsSync(script)) {
    process.stderr.write(`${script} not found; run from the repository root after npm run build.\n`);
    return;
  }
  const child = spawn(process.execPath, [script], { stdio: 'inherit', env: { ...process.env, ...env } });
  process.once('exit', () => child.kill('SIGTERM'));
}

/** Runs the fleet simulator example beside the gateway; it is an example, so it is optional. */
function startSimulator(url: string, mqttUrl: string, secretKey: string): void {
  const script = path.resolve('examples/fleet-simulator/dist/main.js');
  if (!existsSync(script)) {
    process.stderr.write(`fleet simulator: ${script} not found; run it from the repository root after npm run build.\n`);
    return;
  }
  // Its workers join the demo's sanitation unit, the unit the demo zone routes street reports to.
  const child = spawn(process.execPath, [script], {
    stdio: 'inherit',
    env: { ...process.env, CIVICLOOP_URL: url, MQTT_URL: mqttUrl, CIVICLOOP_SECRET_KEY: secretKey, UNIT_ID: 'sanitation' },
  });
  process.once('exit', () => child.kill('SIGTERM'));
  process.stdout.write(`Fleet simulator running (pid ${child.pid}): watch ${url}/v1/fleet and the event stream.\n`);
}

main().catch((error: unknown) => {
  if (error instanceof CivicLoopError) {
    process.stderr.write(`\n${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});

/** A URL without the password it may carry, fit for a log line. */
function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}
