#!/usr/bin/env node
// `npm start`: a gateway (with its own Redis unless REDIS_URL is set), the demo tenant, and the
// example pages and fleet simulator beside it. `--no-simulate` leaves the simulator out.
import { parseArgs } from 'node:util';
import { describeDemo, describeGateway, loadConfig, seedDemo, startGateway } from '@civicloop/gateway';
import { demoGatewayEnv } from './gateway-env.js';
import { demoPortsFrom, startDemoPages } from './pages.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { simulate: { type: 'boolean', default: true } }, allowPositionals: true, allowNegative: true });
  const ports = demoPortsFrom(process.env);
  const config = loadConfig(demoGatewayEnv(process.env));
  const gateway = await startGateway({ config });
  const demo = await seedDemo(gateway.services, config.dataDir);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const pages = await startDemoPages({
    gatewayUrl: gateway.url,
    demo,
    ports,
    ...(gateway.mqtt ? { deviceWsUrl: `ws://${host}:${gateway.mqtt.wsPort}` } : {}),
    // The simulator's devices connect where devices connect: the embedded broker, or the external one.
    ...((config.mqttBrokerUrl ?? gateway.mqtt) ? { deviceBrokerUrl: config.mqttBrokerUrl ?? `mqtt://127.0.0.1:${gateway.mqtt!.tcpPort}` } : {}),
    simulate: values.simulate ?? true,
  });
  const shutdown = (signal: string) => {
    gateway.app.log.info({ signal }, 'shutting down: draining requests');
    pages.stop();
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('exit', () => pages.stop());
  const lines = [...describeGateway(gateway), ...(await describeDemo(demo, gateway.url, config.dataDir))];
  if (!process.env.LOG_LEVEL?.trim()) lines.push('', 'The gateway logs only warnings and errors here; LOG_LEVEL=info npm start shows every request.');
  lines.push('', 'Ctrl-C stops the gateway and the pages (in-flight requests finish first).', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  const code = (error as { code?: unknown }).code;
  process.stderr.write(
    `\n${typeof code === 'string' && code.startsWith('CL_ERR_') ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
