/**
 * npm run bench:script-arguments: what sending a script's arguments as given saves the gateway's
 * process per call (redis/script-arguments.ts). One redis-server, one client as the gateway
 * connects (connectRedis), and the same Lua script, which does nothing with its 7 keys and 36
 * arguments (a create's shape), registered twice: through the gateway's defineScript and through
 * ioredis's own defineCommand (the baseline). BENCH_ROUNDS (6) rounds alternate which goes
 * first; each sends BENCH_CALLS (50,000) calls, 32 in flight, and counts this process's CPU time
 * per call. The same rounds then construct 200,000 of each side's commands alone, with no Redis,
 * timing the construction. Prints the medians and the median of the per-round ratios of both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectRedis, defineScript, startRedisServer } from '@civicloop/gateway';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const calls = Number(process.env.BENCH_CALLS ?? 50_000);
const IN_FLIGHT = 32;
/** Commands constructed per round of the construction-only measure. */
const CONSTRUCTED = 200_000;
const LUA = 'return #KEYS + #ARGV';

type Call = (numKeys: number, ...args: (string | number)[]) => Promise<number>;

const dir = mkdtempSync(path.join(tmpdir(), 'civicloop-bench-script-args-'));
const server = await startRedisServer({ dir, appendOnly: false });
const redis = await connectRedis({ url: server.url, cluster: false });
try {
  defineScript(redis, 'asGiven', LUA);
  redis.defineCommand('flattened', { lua: LUA });
  const client = redis as unknown as { asGiven: Call; flattened: Call };
  const keys = Array.from({ length: 7 }, (_, i) => `{bench}:key:${i}`);
  // A create's arguments: texts of its sizes (a document, an event, ids), numbers as text.
  const argv = Array.from({ length: 36 }, (_, i) => (i === 3 ? 'd'.repeat(700) : i === 4 ? 'e'.repeat(350) : `argument-${i}`));

  /** This process's CPU time per call, in µs, over `calls` calls of the script registered as `script`. */
  const measure = async (script: 'asGiven' | 'flattened'): Promise<number> => {
    let sent = 0;
    const worker = async () => {
      while (sent < calls) {
        sent++;
        const reply = await client[script](keys.length, ...keys, ...argv);
        if (reply !== keys.length + argv.length) throw new Error(`the script answered ${reply}`);
      }
    };
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / calls;
  };

  // Warm both up, uncounted, so neither pays for compiling the path.
  await measure('asGiven');
  await measure('flattened');
  const asGiven: number[] = [];
  const flattened: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      asGiven.push(await measure('asGiven'));
      flattened.push(await measure('flattened'));
    } else {
      flattened.push(await measure('flattened'));
      asGiven.push(await measure('asGiven'));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  // The command alone, with no Redis: what each registration's command class costs to construct
  // for one call (as ioredis's Script.execute builds it: the script's sha, the key count, then all).
  type ScriptCommandClass = new (name: string, args: unknown[], options: object) => { promise: Promise<unknown> };
  const scripts = (redis as unknown as { scriptsSet: Record<string, { sha: string; Command: ScriptCommandClass }> }).scriptsSet;
  const constructUs = (name: 'asGiven' | 'flattened'): number => {
    const { sha, Command } = scripts[name]!;
    const start = process.hrtime.bigint();
    for (let i = 0; i < CONSTRUCTED; i++) new Command('evalsha', [sha, keys.length, ...keys, ...argv], {}).promise.catch(() => undefined);
    return Number(process.hrtime.bigint() - start) / 1000 / CONSTRUCTED;
  };
  constructUs('asGiven');
  constructUs('flattened');
  const built = { asGiven: [] as number[], flattened: [] as number[] };
  for (let round = 0; round < rounds; round++)
    for (const name of round % 2 ? (['flattened', 'asGiven'] as const) : (['asGiven', 'flattened'] as const)) built[name].push(constructUs(name));

  const ratios = asGiven.map((us, i) => us / flattened[i]!);
  console.log(`load: ${calls} calls per round, ${IN_FLIGHT} in flight, ${rounds} rounds alternating; 7 keys and 36 arguments per call`);
  console.log(`  as given: ${asGiven.map((us) => us.toFixed(1)).join(' ')} µs of client CPU per call`);
  console.log(`  flattened (ioredis defineCommand): ${flattened.map((us) => us.toFixed(1)).join(' ')} µs`);
  console.log(`  ratios per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  console.log('');
  const asText = (values: number[]) => values.map((us) => us.toFixed(2)).join(' ');
  console.log(`command construction alone: as given ${asText(built.asGiven)} µs, flattened ${asText(built.flattened)} µs`);
  console.log('');
  const builtRatios = built.asGiven.map((us, i) => us / built.flattened[i]!);
  console.log(
    `command construction: ${median(built.asGiven).toFixed(2)} µs, baseline ${median(built.flattened).toFixed(2)} µs, ratio ${median(builtRatios).toFixed(2)}`,
  );
  console.log(`script call: ${median(asGiven).toFixed(1)} µs of client CPU, baseline ${median(flattened).toFixed(1)} µs, ratio ${median(ratios).toFixed(2)}`);
} finally {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
