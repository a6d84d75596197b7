import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis, type Cluster } from 'ioredis';
import { signToken, type TokenRole, type ZoneGeometry } from '@civicloop/model';
import {
  attachTelemetry,
  buildApp,
  connectRedis,
  loadConfig,
  startRedisCluster,
  startRedisServer,
  type AppOptions,
  type GatewayApp,
  type GatewayConfig,
  type LocalClusterNode,
  type LocalRedisCluster,
  type RunningRedis,
  type RunningTelemetry,
} from '@civicloop/gateway';

export interface TestRedis {
  url: string;
  /** Where its AOF and RDB files are, to start it again on the same data. */
  dir: string;
  client: Redis;
  server: RunningRedis;
  stop(): Promise<void>;
}

/** The environment of a gateway started in a test: every listener on a free port (JT/T 808 off), and no log. */
export const QUIET_ON_FREE_PORTS = { PORT: '0', MQTT_PORT: '0', MQTT_WS_PORT: '0', JT808_PORT: 'false', LOG_LEVEL: 'silent' } as const;

/** A private redis-server on a free port, with its data in a temp directory. */
export async function startTestRedis(
  options: { appendOnly?: boolean /** Allow DEBUG DIGEST (a hash of the whole dataset) from loopback. */; digest?: boolean } = {},
): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-redis-'));
  const server = await startRedisServer({
    dir,
    ...(options.appendOnly ? { appendOnly: true } : {}),
    ...(options.digest ? { extraArgs: ['--enable-debug-command', 'local'] } : {}),
  });
  const client = new Redis(server.url);
  // Tests stop and kill servers on purpose; the client reconnects or is discarded.
  client.on('error', () => undefined);
  return {
    url: server.url,
    dir,
    client,
    server,
    async stop() {
      client.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestTenant {
  id: string;
  code: string;
  secretKey: string;
  publishableKey: string;
  token(sub: string, role: TokenRole, extra?: { unitId?: string; ttlSeconds?: number; name?: string }): Promise<string>;
}

export interface TestGateway extends GatewayApp {
  url: string;
  redis: TestRedis;
  config: GatewayConfig;
  /** A tenant with units `sanitation` and `municipal` and staff w-1, w-2 (sanitation), w-3 (municipal). */
  tenant: TestTenant;
  createTenant(code: string): Promise<TestTenant>;
  /** Telemetry (the MQTT broker, the JT/T 808 listener), when started with { telemetry: true }. */
  telemetry?: RunningTelemetry;
  close(): Promise<void>;
}

let codeCounter = 0;

/** A real gateway listening on a free port over a private Redis; one per test file. */
export async function startTestGateway(
  overrides: Partial<GatewayConfig> = {},
  options: {
    telemetry?: boolean /** Share this Redis (left running on close), as several gateways or a restart do. */;
    redis?: TestRedis /** The gateway's clock. */;
    now?: () => Date;
    /** The gateway's logger (a level and a `stream` to read its lines); default: off. */
    logger?: NonNullable<AppOptions['logger']>;
  } = {},
): Promise<TestGateway> {
  const redis = options.redis ?? (await startTestRedis());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'civicloop-gateway-'));
  // Rate limits off unless a test turns them on: suites send bursts from one address. The
  // scheduler and statistics loops off too, so that nothing writes behind a test's back (tests
  // that are about them run a pass themselves, or turn them on).
  const config = loadConfig(
    {},
    {
      port: 0,
      redisUrl: redis.url,
      logLevel: 'silent',
      dataDir,
      rateLimitPerKey: 0,
      rateLimitPerAddress: 0,
      rateLimitAuthFailuresPerAddress: 0,
      rateLimitKeylessPerAddress: 0,
      schedulerEnabled: false,
      ...overrides,
    },
  );
  const client = await connectRedis({ url: redis.url, cluster: false, socketTimeoutMs: config.redisSocketTimeoutMs });
  // TEST_GATEWAY_LOG=1 prints the gateway's errors (a 500's cause) while a test runs.
  const gateway = await buildApp({
    config,
    redis: client,
    masterKey: 'test-master-key',
    logger: options.logger ?? (process.env.TEST_GATEWAY_LOG ? { level: 'error' } : false),
    ...(options.now ? { now: options.now } : {}),
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  // Free ports for every listener: JT/T 808 too, unless a test turns it off.
  const telemetry = options.telemetry
    ? await attachTelemetry(gateway, { ...config, mqttPort: 0, mqttWsPort: 0, jt808Port: overrides.jt808Port ?? 0, host: '127.0.0.1' })
    : undefined;
  const address = gateway.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const createTenant = async (code: string): Promise<TestTenant> => {
    const issued = await gateway.services.tenants.create({ code: `${code}${++codeCounter}`.slice(0, 8), name: `Test tenant ${code}` });
    return {
      id: issued.tenant.id,
      code: issued.tenant.code,
      secretKey: issued.secretKey,
      publishableKey: issued.publishableKey,
      token: (sub, role, extra = {}) => signToken({ secretKey: issued.secretKey, sub, role, ...extra }),
    };
  };

  const tenant = await createTenant('T');
  const { directory } = gateway.services;
  await directory.createUnit(tenant.id, { id: 'sanitation', name: 'Sanitation', categories: ['sanitation.bin_overflow'] });
  await directory.createUnit(tenant.id, { id: 'municipal', name: 'Municipal' });
  await directory.createStaff(tenant.id, { id: 'w-1', name: 'Worker One', role: 'worker', unitId: 'sanitation', skills: ['cleaning'] });
  await directory.createStaff(tenant.id, { id: 'w-2', name: 'Worker Two', role: 'worker', unitId: 'sanitation', skills: ['cleaning'] });
  await directory.createStaff(tenant.id, { id: 'w-3', name: 'Worker Three', role: 'worker', unitId: 'municipal', skills: ['road'] });

  return {
    ...gateway,
    url,
    redis,
    config,
    tenant,
    createTenant,
    ...(telemetry ? { telemetry } : {}),
    async close() {
      await gateway.app.close();
      client.disconnect();
      if (!options.redis) await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One hash of every key and value in Redis (DEBUG DIGEST): equal digests mean nothing was written. */
export async function digestRedis(client: Redis): Promise<string> {
  return (await client.call('DEBUG', 'DIGEST')) as string;
}

/**
 * Every key in Redis with its value: equal snapshots mean nothing was written. Values are DUMPed,
 * except hashes and sets, read and sorted: one stored as a hash table is dumped in the table's
 * order, which moves while Redis rehashes it a step at a time on reads, with nothing written.
 */
export async function snapshotRedis(client: Redis): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    // Two round trips per batch of keys, however many: a snapshot taken while a test runs must be quick.
    const types = await pipelined(client, keys, (pipeline, key) => pipeline.type(key));
    const values = await pipelined(client, keys, (pipeline, key, i) => {
      if (types[i] === 'hash') return pipeline.hgetallBuffer(key);
      if (types[i] === 'set') return pipeline.smembersBuffer(key);
      return pipeline.dumpBuffer(key);
    });
    for (const [i, key] of keys.entries()) out.set(key, snapshotValue(types[i] as string, values[i]));
  } while (cursor !== '0');
  return out;
}

function pipelined(client: Redis, keys: string[], add: (pipeline: ReturnType<Redis['pipeline']>, key: string, i: number) => unknown): Promise<unknown[]> {
  const pipeline = client.pipeline();
  for (const [i, key] of keys.entries()) add(pipeline, key, i);
  return pipeline.exec().then((results) => (results ?? []).map(([error, value]) => (error ? `error ${error.message}` : value)));
}

function snapshotValue(type: string, value: unknown): string {
  if (type === 'hash') {
    const fields = Object.entries(value as Record<string, Buffer>).map(([field, bytes]) => `${field}=${bytes.toString('base64')}`);
    return `hash ${JSON.stringify(fields.sort())}`;
  }
  if (type === 'set') return `set ${JSON.stringify((value as Buffer[]).map((member) => member.toString('base64')).sort())}`;
  return value instanceof Buffer ? value.toString('base64') : '';
}

export const BIN_REPORT = {
  category: 'sanitation.bin_overflow',
  description: 'The bin at the bus stop is overflowing',
  location: { lat: 23.1291, lon: 113.2644, accuracy: 12, address: 'Tianhe Rd bus stop' },
  photos: [{ ref: 'https://photos.example.org/before-1.jpg' }],
};

/** What a test request may carry: a bearer, a publishable key, a JSON body or a raw one, more headers. */
export interface TestRequestOptions {
  auth?: string;
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string | Buffer;
}

/** The headers and body a test request sends (JSON unless it says otherwise). */
function requestParts(options: TestRequestOptions): { headers: Record<string, string>; body: string | Buffer | undefined } {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = `Bearer ${options.auth}`;
  if (options.key) headers['x-civicloop-key'] = options.key;
  const body = options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  return { headers, body };
}

/** An answer's body: JSON when it parses, else the text. */
function parsedBody(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

export async function api(url: string, method: string, pathname: string, options: TestRequestOptions = {}) {
  const { headers, body } = requestParts(options);
  const response = await fetch(url + pathname, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}),
  });
  return { status: response.status, headers: response.headers, body: parsedBody(await response.text()) };
}

/**
 * The same request as api(), through fastify's inject(): no socket, no port, the whole request
 * path otherwise (hooks, validation, error handler), for route tests that need nothing of HTTP
 * on the wire (streaming, keep-alive, CORS preflights from a browser keep api()).
 */
export async function inject(gateway: Pick<GatewayApp, 'app'>, method: string, pathname: string, options: TestRequestOptions = {}) {
  const { headers, body } = requestParts(options);
  const response = await gateway.app.inject({ method: method as 'GET', url: pathname, headers, ...(body !== undefined ? { payload: body } : {}) });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) for (const one of [value].flat()) responseHeaders.append(name, String(one));
  }
  return { status: response.statusCode, headers: responseHeaders, body: parsedBody(response.body) };
}

/**
 * Works a ticket (of the gateway's test tenant) until a supervisor sends it back: dispatched to
 * `staffId` of `unitId`, accepted, arrived and resolved by them, then failed at verification with
 * `note`. Every step must succeed. The ticket ends in `rework`, theirs again.
 */
export async function sendBackForRework(
  gateway: Pick<GatewayApp, 'app'> & { tenant: TestTenant },
  ticketId: string,
  worker: { staffId: string; unitId: string },
  note: string,
): Promise<void> {
  const asWorker = await gateway.tenant.token(worker.staffId, 'worker', { unitId: worker.unitId });
  const supervisor = await gateway.tenant.token('s-rework', 'supervisor');
  for (const [command, body, auth] of [
    ['dispatch', { unitId: worker.unitId, assigneeId: worker.staffId }, gateway.tenant.secretKey],
    ['accept', {}, asWorker],
    ['arrive', {}, asWorker],
    ['resolve', { photos: [{ ref: 'https://photos.example.org/after-1.jpg' }] }, asWorker],
    ['verify', { outcome: 'fail', note }, supervisor],
  ] as const) {
    const res = await inject(gateway, 'POST', `/v1/tickets/${ticketId}/${command}`, { auth, body });
    if (res.status !== 200) throw new Error(`${command} of ${ticketId}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/**
 * A new worker of the sanitation unit (`staffId`, named `name`) with a badge registered to them
 * (a phone that reports as one, too): what the badge's MQTT login needs. Every step must succeed.
 */
export async function workerWithBadge(
  gateway: Pick<GatewayApp, 'app'> & { tenant: TestTenant },
  staffId: string,
  name: string,
): Promise<{ device: { id: string }; credential: { username: string; password: string } }> {
  const auth = gateway.tenant.secretKey;
  const staff = await inject(gateway, 'POST', '/v1/staff', { auth, body: { id: staffId, name, role: 'worker', unitId: 'sanitation' } });
  if (staff.status !== 201) throw new Error(`staff ${staffId}: ${staff.status} ${JSON.stringify(staff.body)}`);
  const badge = await inject(gateway, 'POST', '/v1/devices', { auth, body: { kind: 'badge', name: `Badge of ${name}`, staffId, unitId: 'sanitation' } });
  if (badge.status !== 201) throw new Error(`badge of ${staffId}: ${badge.status} ${JSON.stringify(badge.body)}`);
  return badge.body as { device: { id: string }; credential: { username: string; password: string } };
}

/** A square zone outline 0.01° on a side, its south-west corner at (west, south): enough for routing and ranking tests. */
export function squareZone(west: number, south: number): ZoneGeometry {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [west, south],
        [west + 0.01, south],
        [west + 0.01, south + 0.01],
        [west, south + 0.01],
        [west, south],
      ],
    ],
  };
}

export type TestClusterNode = LocalClusterNode;
export type TestCluster = LocalRedisCluster;

/**
 * Three masters in cluster mode on free ports, in temporary directories; with `replicas`, that
 * many replicas per master. `nodeTimeoutMs` is how long a node may be silent before the others
 * fail it over. The same starter as `npm run cluster` (the gateway's startRedisCluster).
 */
export function startTestCluster(options: { replicas?: number; nodeTimeoutMs?: number } = {}): Promise<TestCluster> {
  return startRedisCluster(options);
}

export interface ClusterGateway {
  app: GatewayApp;
  /** Its own connection to the cluster. */
  client: Cluster;
  url: string;
  telemetry?: RunningTelemetry;
  close(): Promise<void>;
}

/**
 * A gateway over a test cluster, on a free port, with its own cluster connection: several of them
 * (same master key) serve the same tenants, as gateways behind a load balancer do. With
 * `telemetry`, its MQTT broker listens on a free port too (JT/T 808 off).
 */
export async function startClusterGateway(
  cluster: TestCluster,
  overrides: Partial<GatewayConfig> = {},
  options: { telemetry?: boolean } = {},
): Promise<ClusterGateway> {
  const client = (await connectRedis({ url: cluster.urls.join(','), cluster: true })) as Cluster;
  const config = loadConfig(
    {},
    {
      port: 0,
      redisUrl: cluster.urls.join(','),
      redisCluster: true,
      logLevel: 'silent',
      schedulerEnabled: false,
      rateLimitPerKey: 0,
      rateLimitPerAddress: 0,
      ...overrides,
    },
  );
  const app = await buildApp({ config, redis: client, masterKey: 'cluster-test', logger: false });
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  const telemetry = options.telemetry ? await attachTelemetry(app, { ...config, mqttPort: 0, mqttWsPort: 0, jt808Port: false, host: '127.0.0.1' }) : undefined;
  return {
    app,
    client,
    url: `http://127.0.0.1:${(app.app.server.address() as { port: number }).port}`,
    ...(telemetry ? { telemetry } : {}),
    async close() {
      await app.app.close();
      client.disconnect();
    },
  };
}
