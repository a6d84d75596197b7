import path from 'node:path';
import { startLayout } from './layout.js';

/**
 * `npm run cluster`: the scaled-out layout with the demo, on this machine. Everything it writes
 * goes under .data/cluster/ and is started afresh each time. Ports: PORT (8080) and PORT_2 (8081)
 * for the gateways, MQTT_PORT (1883) for mosquitto, DEMO_PORTAL_PORT (8090) and
 * DEMO_CONSOLE_PORT (8091) and DEMO_WORKER_APP_PORT (8092) for the demo pages. `-- --simulate` also runs the fleet simulator.
 */
const port = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    process.stderr.write(`${name}="${raw}" is not a port; change ${name}.\n`);
    process.exit(1);
  }
  return value;
};

async function main(): Promise<void> {
  const dir = path.resolve(process.env.CLUSTER_DIR ?? '.data/cluster');
  process.stdout.write(`Starting a Redis Cluster (3 masters, 3 replicas), mosquitto 2 and two gateways in external-broker mode under ${dir} ...\n`);
  const layout = await startLayout({
    dir,
    demo: true,
    simulate: process.argv.includes('--simulate'),
    ports: {
      gateways: [port('PORT', 8080), port('PORT_2', 8081)],
      mqtt: port('MQTT_PORT', 1883),
      portal: port('DEMO_PORTAL_PORT', 8090),
      console: port('DEMO_CONSOLE_PORT', 8091),
      workerApp: port('DEMO_WORKER_APP_PORT', 8092),
    },
    echo: (gateway, line) => process.stdout.write(`[${gateway}] ${line}\n`),
  });
  const [first, second] = layout.gateways;
  process.stdout.write(
    [
      '',
      'CivicLoop scaled out:',
      `  Redis Cluster:  ${layout.cluster.urls.join(' ')}`,
      `  mosquitto 2:    ${layout.broker.url} (dynamic security admin ${layout.broker.admin.username} ` +
        `/ ${layout.broker.admin.password}; devices log in as <tenant>.<device>)`,
      `  gateway 1:      ${first!.url} (demo; the portal and the console above talk to it)`,
      `  gateway 2:      ${second!.url} (same tenants, same devices: try any request on either)`,
      `  operator token: ${layout.operatorToken}`,
      '',
      'Both gateways share the subscription $share/civicloop/civicloop/+/+/+/{position,event,status}',
      'on mosquitto: each device message is stored once, by whichever gateway mosquitto gives it to.',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    layout.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
