/**
 * npm run bench:create-breakdown: where a create's time goes. The same create load runs against
 * four gateways, each in its own process, that differ in one part only: no store write at all
 * (the baseline here), the write encoded but not sent, sent to a script that does nothing, and
 * the real write. Also prints the real script's Redis CPU per create (INFO commandstats).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, startRedisServer } from '@civicloop/gateway';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const VARIANTS = ['nostore', 'noredis', 'noop-script', 'full'] as const;

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-breakdown-'));
const redisServer = await startRedisServer({ dir, appendOnly: true });
const stats = new Redis(redisServer.url);
const body = JSON.stringify({
  category: 'sanitation.bin_overflow',
  description: 'The bin at the bus stop is overflowing again',
  location: { lat: 23.1291, lon: 113.2644 },
  photos: [{ ref: 'https://photos.example.org/before.jpg' }],
});
const rates = new Map<string, number>();
let usecPerCreate = 0;
try {
  for (const variant of VARIANTS) {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'breakdown-gateway.ts'), variant], {
      env: { ...process.env, REDIS_URL: redisServer.url, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const secretKey = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const ready = /ready (\S+)/.exec(chunk.toString());
        if (ready) resolve(ready[1]!);
      });
      child.once('exit', (code) => reject(new Error(`${variant} gateway exited with ${code}`)));
    });
    const options = {
      url: `http://127.0.0.1:${port}/v1/tickets`,
      method: 'POST' as const,
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body,
      connections,
    };
    await autocannon({ ...options, duration: 2 });
    await stats.config('RESETSTAT');
    const result = await autocannon({ ...options, duration: seconds });
    if (result.non2xx > 0) throw new Error(`${variant}: ${result.non2xx} non-2xx answers`);
    rates.set(variant, result.requests.average);
    if (variant === 'full') usecPerCreate = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(await stats.info('commandstats'))?.[1] ?? 0);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const baseline = rates.get('nostore')!;
  console.log(
    `\nload: ${connections} connections, ${seconds} s per variant; the real create script uses ${usecPerCreate.toFixed(1)} µs of Redis CPU per ticket`,
  );
  for (const variant of VARIANTS) {
    console.log(
      `create ${variant}: ${rates.get(variant)!.toFixed(0)} req/s, baseline ${baseline.toFixed(0)} req/s, ratio ${(rates.get(variant)! / baseline).toFixed(2)}`,
    );
  }
} finally {
  stats.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
