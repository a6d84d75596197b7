/**
 * npm run bench:replica-wait: what REDIS_WAIT_REPLICAS=1 costs a create. One Redis primary (AOF
 * everysec) with one replica on this machine, and two gateways on that primary, one with
 * REDIS_WAIT_REPLICAS=1 and one without; autocannon creates tickets through each in turn for
 * BENCH_ROUNDS (3) rounds of BENCH_SECONDS (5), BENCH_CONNECTIONS (32) connections. Prints req/s
 * and latency of each side and the median of the per-round ratios. Replica and primary share the
 * machine, so the extra round trip is a loopback one: across a network add its round-trip time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, startRedisServer } from '@civicloop/gateway';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function startGateway(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'packages/gateway/dist/cli.js'), 'start'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}: ${out}`)));
  });
}

const dirs = [mkdtempSync(path.join(tmpdir(), 'civicloop-bench-primary-')), mkdtempSync(path.join(tmpdir(), 'civicloop-bench-replica-'))];
const primary = await startRedisServer({ dir: dirs[0]!, appendOnly: true });
const replica = await startRedisServer({ dir: dirs[1]!, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
const children: ChildProcess[] = [];
try {
  const probe = new Redis(replica.url);
  while (!(await probe.info('replication')).includes('master_link_status:up')) await new Promise((r) => setTimeout(r, 50));
  probe.disconnect();
  const [plainPort, waitingPort] = await Promise.all([freePort(), freePort()]);
  const common = {
    REDIS_URL: primary.url,
    LOG_LEVEL: 'warn',
    CIVICLOOP_OPERATOR_TOKEN: 'bench-operator-token',
    CIVICLOOP_MASTER_KEY: 'bench-master-key',
    MQTT_ENABLED: 'false',
    JT808_PORT: 'false',
    RATE_LIMIT_PER_KEY: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
  };
  children.push(
    await startGateway({ ...common, PORT: String(plainPort) }),
    await startGateway({ ...common, PORT: String(waitingPort), REDIS_WAIT_REPLICAS: '1' }),
  );
  const created = await fetch(`http://127.0.0.1:${plainPort}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-operator-token', 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'WAIT', name: 'Replica wait bench' }),
  });
  const tenant = (await created.json()) as { secretKey: string };
  const body = JSON.stringify({
    category: 'sanitation.bin_overflow',
    description: 'The bin at the bus stop is overflowing again',
    location: { lat: 23.1291, lon: 113.2644, accuracy: 10 },
    photos: [{ ref: 'https://photos.example.org/before.jpg' }],
  });
  const run = async (port: number) => {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/v1/tickets`,
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.secretKey}`, 'content-type': 'application/json' },
      body,
      connections,
      duration: seconds,
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
  };
  await run(plainPort);
  await run(waitingPort);
  const sides: { plain: Awaited<ReturnType<typeof run>>; waiting: Awaited<ReturnType<typeof run>> }[] = [];
  for (let round = 0; round < rounds; round++) sides.push({ plain: await run(plainPort), waiting: await run(waitingPort) });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const pick = (side: 'plain' | 'waiting', field: 'rps' | 'p50' | 'p99') => median(sides.map((s) => s[side][field]));
  const ratios = sides.map((s) => s.waiting.rps / s.plain.rps);
  console.log(
    `create, ${connections} connections, ${rounds} rounds of ${seconds} s: REDIS_WAIT_REPLICAS=1 ` +
      `${pick('waiting', 'rps').toFixed(0)} req/s p50 ${pick('waiting', 'p50')} ms p99 ${pick('waiting', 'p99')} ` +
      `ms; REDIS_WAIT_REPLICAS=0 ${pick('plain', 'rps').toFixed(0)} req/s p50 ${pick('plain', 'p50')} ` +
      `ms p99 ${pick('plain', 'p99')} ms; ratios per round ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  console.log('');
  console.log(
    `create with REDIS_WAIT_REPLICAS=1: ${pick('waiting', 'rps').toFixed(0)} req/s, ` +
      `baseline ${pick('plain', 'rps').toFixed(0)} req/s, ratio ${median(ratios).toFixed(2)}`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await replica.stop();
  await primary.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
