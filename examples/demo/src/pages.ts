import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CivicLoop } from '@civicloop/sdk';
import { freePort, type DemoTenant } from '@civicloop/gateway';

/** The demo pages' ports (0: a free one), read from DEMO_PORTAL_PORT, DEMO_CONSOLE_PORT, DEMO_WORKER_APP_PORT. */
export interface DemoPorts {
  portal: number;
  console: number;
  workerApp: number;
}

const PORT_VARIABLES = { portal: ['DEMO_PORTAL_PORT', 8090], console: ['DEMO_CONSOLE_PORT', 8091], workerApp: ['DEMO_WORKER_APP_PORT', 8092] } as const;

/** The ports the environment asks for, each checked: a bad value names its variable. */
export function demoPortsFrom(env: NodeJS.ProcessEnv): DemoPorts {
  const read = ([name, fallback]: readonly [string, number]) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`${name}="${raw}" is not a port: use 0 to 65535 (0 picks a free one); change ${name}.`);
    return port;
  };
  return { portal: read(PORT_VARIABLES.portal), console: read(PORT_VARIABLES.console), workerApp: read(PORT_VARIABLES.workerApp) };
}

export interface DemoPagesOptions {
  gatewayUrl: string;
  demo: DemoTenant;
  ports: DemoPorts;
  /** Where the worker app's phones connect as badges (the embedded broker's WebSocket), if anywhere. */
  deviceWsUrl?: string;
  /** Where the fleet simulator's devices connect; without it there is no simulator. */
  deviceBrokerUrl?: string;
  simulate: boolean;
  log?: (line: string) => void;
}

export interface RunningDemoPages {
  ports: DemoPorts;
  stop(): void;
}

/** An example's entry point, found through its package (a workspace dependency of this one). */
function entryOf(example: string): string {
  return fileURLToPath(import.meta.resolve(`@civicloop/${example}/main`));
}

/**
 * Serves the example pages beside a gateway with the demo tenant: the property portal (as the
 * demo's partner), the dispatcher console (as a command-centre lead, so every step can be tried
 * from one page) and the worker app, and runs the fleet simulator when asked. Their origins are
 * added to the tenant's allowed origins first, since their pages call the API from the browser.
 */
export async function startDemoPages(options: DemoPagesOptions): Promise<RunningDemoPages> {
  const { gatewayUrl, demo } = options;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const ports: DemoPorts = {
    portal: options.ports.portal || (await freePort()),
    console: options.ports.console || (await freePort()),
    workerApp: options.ports.workerApp || (await freePort()),
  };
  const admin = new CivicLoop({ baseUrl: gatewayUrl, apiKey: demo.secretKey });
  const { tenant } = await admin.me();
  const origins = Object.values(ports).flatMap((port) => [`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  await admin.updatePolicy({ allowedOrigins: [...new Set([...tenant.policy.allowedOrigins, ...origins])] });

  const children: ChildProcess[] = [];
  const run = (example: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, [entryOf(example)], { stdio: 'inherit', env: { ...process.env, ...env } });
    children.push(child);
    return child;
  };
  const keys = { CIVICLOOP_URL: gatewayUrl, CIVICLOOP_SECRET_KEY: demo.secretKey, CIVICLOOP_PUBLISHABLE_KEY: demo.publishableKey };
  // The portal is a partner of the district: it gets the partner's keys, not the tenant's.
  if (demo.partner) {
    run('example-property-portal', {
      CIVICLOOP_URL: gatewayUrl,
      CIVICLOOP_PARTNER_SECRET_KEY: demo.partner.secretKey,
      CIVICLOOP_PARTNER_PUBLISHABLE_KEY: demo.partner.publishableKey,
      PORTAL_PORT: String(ports.portal),
    });
  }
  run('example-dispatcher-console', {
    ...keys,
    CONSOLE_PORT: String(ports.console),
    CONSOLE_ROLE: 'admin',
    CONSOLE_OPERATOR: 'demo-lead',
    CONSOLE_OPERATOR_NAME: '值班长 Demo lead',
  });
  run('example-worker-app', { ...keys, WORKER_APP_PORT: String(ports.workerApp), ...(options.deviceWsUrl ? { DEVICE_WS_URL: options.deviceWsUrl } : {}) });
  if (options.simulate && options.deviceBrokerUrl) {
    // Its workers join the demo's sanitation unit, the unit the demo zone routes street reports to.
    const simulator = run('example-fleet-simulator', {
      CIVICLOOP_URL: gatewayUrl,
      MQTT_URL: options.deviceBrokerUrl,
      CIVICLOOP_SECRET_KEY: demo.secretKey,
      UNIT_ID: 'sanitation',
    });
    log(`Fleet simulator running (pid ${simulator.pid}): watch ${gatewayUrl}/v1/fleet and the event stream.`);
  } else if (options.simulate) {
    log('No fleet simulator: it needs MQTT_ENABLED=true or MQTT_BROKER_URL; reports stay with the units until someone works them.');
  }
  return {
    ports,
    stop: () => {
      for (const child of children) child.kill('SIGTERM');
    },
  };
}
