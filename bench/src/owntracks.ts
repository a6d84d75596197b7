/**
 * npm run bench:owntracks: what OwnTracks payload encryption costs the gateway. BENCH_DEVICES (50)
 * phones publish BENCH_MESSAGES (1000) OwnTracks locations each over MQTT, QoS 1, INFLIGHT (20)
 * unacknowledged per device, as fast as the gateway takes them: once in clear (the baseline)
 * and once sealed as the apps seal them (libsodium's secretbox, here tweetnacl) by phones whose
 * devices have an ownTracksKey, alternating for BENCH_ROUNDS (3) rounds. The payloads are built
 * before each run, so the publisher does the same work in both. Stored msg/s counts until the
 * gateway has processed the last message; the gateway's CPU time per message is printed beside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import nacl from 'tweetnacl';
import { freePort, startRedisServer, tenantKeys } from '@civicloop/gateway';
import { cpuMs } from './process-cpu.js';
import { brokerNodeArgs, ingestLoad, loadedGatewayEnv } from './ingest-settings.js';
import { runPublisher } from './run-publisher.js';
import { requestJson } from './json-request.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { devices: DEVICES, messages: MESSAGES, inflight: INFLIGHT } = ingestLoad;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEY = 'bench key 环卫';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The key the apps make of an encryption key: its UTF-8 bytes, zero-padded to 32. */
const keyBytes = new Uint8Array(32);
keyBytes.set(Buffer.from(KEY, 'utf8'));
const seal = (clear: string) => {
  const nonce = nacl.randomBytes(24);
  return JSON.stringify({ _type: 'encrypted', data: Buffer.concat([nonce, nacl.secretbox(Buffer.from(clear), nonce, keyBytes)]).toString('base64') });
};

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-owntracks-'));
const redisServer = await startRedisServer({ dir, appendOnly: true });
let gateway: ChildProcess | undefined;
try {
  const [http, mqtt, ws] = await Promise.all([freePort(), freePort(), freePort()]);
  gateway = spawn(process.execPath, [...brokerNodeArgs(), path.join(root, 'packages/gateway/dist/cli.js'), 'start'], {
    env: { ...process.env, ...loadedGatewayEnv({ redisUrl: redisServer.url, http, mqtt, ws, jt808: 'false' }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    gateway!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C')) resolve();
    });
    gateway!.once('exit', (code) => reject(new Error(`the gateway exited with ${code}: ${out}`)));
  });
  const gw = `http://127.0.0.1:${http}`;
  const tenant = await requestJson(`${gw}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-op' },
    body: JSON.stringify({ code: 'OTBENCH', name: 'OwnTracks bench' }),
  });
  const auth = { authorization: `Bearer ${tenant.secretKey}` };
  const tenantId: string = tenant.tenant.id;
  const register = async (prefix: string, extra: Record<string, unknown>) => {
    const phones: { username: string; password: string; topic: string }[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const r = await requestJson(`${gw}/v1/devices`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ id: `${prefix}${i}`, kind: 'badge', name: `Phone ${i}`, ...extra }),
      });
      phones.push({ username: r.credential.username, password: r.credential.password, topic: `owntracks/${r.device.id}/phone` });
    }
    return phones;
  };
  const loads = { clear: await register('clear-', {}), sealed: await register('sealed-', { ownTracksKey: KEY }) };
  const firstFix = Math.floor(Date.now() / 1000) - MESSAGES - 120;
  const location = (i: number) =>
    JSON.stringify({ _type: 'location', lat: 23.1 + (i % 1000) * 1e-5, lon: 113.3, tst: firstFix + i, acc: 8, batt: 80, vel: 12, tid: 'ph', conn: 'm' });
  const processed = async () => {
    const c = await requestJson(`${gw}/v1/telemetry/counters`, { headers: auth });
    return (c.positionsStored as number) + (c.duplicates as number);
  };
  const redis = new Redis(redisServer.url);

  async function run(load: 'clear' | 'sealed') {
    const phones = loads[load];
    // Every run repeats the same fix times: forget them, so that each run stores rather than skips.
    for (const p of phones) await redis.del(tenantKeys(tenantId).seenFixes(p.username));
    const payloads = phones.map(() => Array.from({ length: MESSAGES }, (_, i) => (load === 'sealed' ? seal(location(i)) : location(i))));
    const before = await processed();
    const [cpu0, redisCpu0] = [cpuMs(gateway!.pid!), cpuMs(redisServer.pid)];
    const result = await runPublisher(dir, {
      url: `mqtt://127.0.0.1:${mqtt}`,
      devices: phones,
      messagesPerDevice: MESSAGES,
      qos: 1,
      inflight: INFLIGHT,
      payloads,
    });
    let done = await processed();
    const deadline = Date.now() + 60_000;
    while (done - before < result.sent && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      done = await processed();
    }
    if (done - before < result.sent) throw new Error(`${load}: the gateway stored ${done - before} of ${result.sent}`);
    const count = done - before;
    return {
      rate: count / ((performance.now() - result.startedAt) / 1000),
      gatewayUs: (1000 * (cpuMs(gateway!.pid!) - cpu0)) / count,
      redisUs: (1000 * (cpuMs(redisServer.pid) - redisCpu0)) / count,
      p50: result.p50,
    };
  }

  // Warm-up of both paths, not counted.
  await run('clear');
  await run('sealed');
  const rounds: { clear: Awaited<ReturnType<typeof run>>; sealed: Awaited<ReturnType<typeof run>> }[] = [];
  for (let round = 0; round < ROUNDS; round++) rounds.push({ clear: await run('clear'), sealed: await run('sealed') });
  redis.disconnect();
  const ratios = rounds.map((r) => r.sealed.rate / r.clear.rate);
  const figure = (pick: (r: (typeof rounds)[number]) => number, digits = 0) => median(rounds.map(pick)).toFixed(digits);
  console.log(
    `OwnTracks over MQTT, QoS 1, ${DEVICES} phones x ${MESSAGES} locations: sealed ${figure((r) => r.sealed.rate)} stored msg/s ` +
      `(PUBACK p50 ${figure((r) => r.sealed.p50, 1)} ms), clear ${figure((r) => r.clear.rate)} msg/s (p50 ${figure((r) => r.clear.p50, 1)} ms); ` +
      `ratios per round ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  console.log(
    `  CPU per message: gateway ${figure((r) => r.sealed.gatewayUs, 1)} µs sealed, ${figure((r) => r.clear.gatewayUs, 1)} µs clear; ` +
      `redis-server ${figure((r) => r.sealed.redisUs, 1)} µs, ${figure((r) => r.clear.redisUs, 1)} µs`,
  );
  console.log(`owntracks sealed: ${figure((r) => r.sealed.rate)} msg/s, baseline ${figure((r) => r.clear.rate)} msg/s, ratio ${median(ratios).toFixed(2)}`);
} finally {
  gateway?.kill('SIGTERM');
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
