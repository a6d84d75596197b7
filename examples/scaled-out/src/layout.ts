import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startDemoPages, type RunningDemoPages } from '@civicloop/example-demo/pages';
import { freePort, startRedisCluster, type DemoTenant, type LocalRedisCluster } from '@civicloop/gateway';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startMosquitto, type RunningMosquitto } from './mosquitto.js';

export { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
export { startMosquitto, type RunningMosquitto } from './mosquitto.js';

export interface LayoutOptions {
  /** Everything the layout writes (Redis nodes, mosquitto, gateways' data) goes under here. */
  dir: string;
  /** Gateways in external-broker mode. Default 2. */
  gateways?: number;
  /** Replicas per Redis master (three masters). Default 1. */
  replicas?: number;
  /** The first gateway seeds the demo tenant; the demo launcher's pages (property portal, dispatcher console, worker app) are served beside it. */
  demo?: boolean;
  /** With demo: the fleet simulator runs too, its vehicles and badges on the broker. */
  simulate?: boolean;
  /** Ports; any left out is a free one. */
  ports?: { gateways?: number[]; mqtt?: number; portal?: number; console?: number; workerApp?: number };
  /** Each line a gateway prints. */
  echo?: (gateway: string, line: string) => void;
  /** More settings for every gateway (MQTT_BROKER_SUBSCRIBERS, LOG_LEVEL...). */
  gatewayEnv?: Record<string, string>;
}

export interface RunningLayout {
  cluster: LocalRedisCluster;
  broker: RunningMosquitto;
  gateways: GatewayProcess[];
  /** The operator token every gateway takes (tenant administration). */
  operatorToken: string;
  stop(): Promise<void>;
}

/**
 * CivicLoop scaled out on one machine, as docs/scaling.md describes it: a Redis Cluster, a
 * mosquitto 2 broker with its dynamic security plugin, and gateways that run no broker of their
 * own but share one MQTT 5 shared subscription on it (MQTT_BROKER_URL) and manage the devices'
 * accounts in it (MQTT_BROKER_DYNSEC). `npm run cluster` starts it with the demo; the test
 * suite and `npm run bench:scale` start the same layout.
 */
export async function startLayout(options: LayoutOptions): Promise<RunningLayout> {
  mkdirSync(options.dir, { recursive: true });
  const count = options.gateways ?? 2;
  const operatorToken = `op-${randomBytes(12).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64url');
  let cluster: LocalRedisCluster | undefined;
  let broker: RunningMosquitto | undefined;
  const gateways: GatewayProcess[] = [];
  let pages: RunningDemoPages | undefined;
  const stop = async () => {
    pages?.stop();
    await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
    await broker?.stop();
    await cluster?.stop();
  };
  try {
    cluster = await startRedisCluster({ dir: path.join(options.dir, 'redis'), replicas: options.replicas ?? 1 });
    broker = await startMosquitto({ dir: path.join(options.dir, 'mosquitto'), ...(options.ports?.mqtt ? { port: options.ports.mqtt } : {}) });
    for (let i = 1; i <= count; i++) {
      const name = `gateway-${i}`;
      const port = options.ports?.gateways?.[i - 1] ?? (await freePort());
      const first = i === 1;
      const env: Record<string, string> = {
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: cluster.urls.join(','),
        REDIS_CLUSTER: 'true',
        MQTT_BROKER_URL: broker.url,
        MQTT_BROKER_USERNAME: broker.admin.username,
        MQTT_BROKER_PASSWORD: broker.admin.password,
        MQTT_BROKER_CLIENT_ID: `civicloop-${name}`,
        MQTT_BROKER_DYNSEC: 'true',
        JT808_PORT: 'false',
        DATA_DIR: path.join(options.dir, name),
        CIVICLOOP_MASTER_KEY: masterKey,
        CIVICLOOP_OPERATOR_TOKEN: operatorToken,
        LOG_LEVEL: 'warn',
        ...options.gatewayEnv,
      };
      const args = first && options.demo ? ['--demo'] : [];
      // One after the other: the first seeds the demo tenant the others then serve too.
      gateways.push(await startGatewayProcess({ name, env, args, ...(options.echo ? { echo: (line: string) => options.echo!(name, line) } : {}) }));
    }
    if (options.demo) {
      // The first gateway wrote the demo tenant's keys into its data directory when it seeded it.
      const demo = JSON.parse(readFileSync(path.join(options.dir, 'gateway-1', 'demo-tenant.json'), 'utf8')) as DemoTenant;
      pages = await startDemoPages({
        gatewayUrl: gateways[0]!.url,
        demo,
        ports: { portal: options.ports?.portal ?? 0, console: options.ports?.console ?? 0, workerApp: options.ports?.workerApp ?? 0 },
        deviceBrokerUrl: broker.url,
        simulate: options.simulate ?? false,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { cluster, broker, gateways, operatorToken, stop };
}
