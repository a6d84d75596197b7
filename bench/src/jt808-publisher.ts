// The JT/T 808 load for bench:ingest, in its own process like the MQTT publisher: K terminals
// over TCP, each authenticated with its code, each sending 0x0200 location reports as fast as
// the platform answers them (up to INFLIGHT unanswered at a time, as the MQTT load's QoS 1
// window). Prints `publishing` when the load starts, then one JSON line: how many were sent and
// answered "stored", how long it took, report-to-answer latencies and its own CPU time per message.
//
// The terminal is the test suite's simulator (test-support/jt808-terminal.ts), written from the
// standard rather than from the gateway's codec.
import { readFileSync } from 'node:fs';
import { Jt808Terminal } from '@civicloop/test-support/jt808-terminal.js';

interface Job {
  port: number;
  terminals: { terminalId: string; code: string }[];
  messagesPerTerminal: number;
  inflight: number;
  /** Epoch ms of the first fix; fixes are one second apart (JT/T 808 times are whole seconds). */
  firstFix: number;
}

const job = JSON.parse(readFileSync(process.env.JOB_FILE!, 'utf8')) as Job;
const terminals = await Promise.all(
  job.terminals.map(async ({ terminalId, code }) => {
    const terminal = new Jt808Terminal(terminalId);
    await terminal.connect(job.port);
    const result = await terminal.authenticate(code);
    if (result !== 0) throw new Error(`terminal ${terminalId} was refused authentication (${result})`);
    return terminal;
  }),
);

const latencies: number[] = [];
let refused = 0;
process.stdout.write('publishing\n');
const started = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(
  terminals.map(async (terminal) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: job.inflight }, async () => {
        while (next < job.messagesPerTerminal) {
          const i = next++;
          const t = performance.now();
          const answer = await terminal.answerTo(
            terminal.report({ lat: 23.1 + (i % 1000) * 1e-5, lon: 113.3, time: job.firstFix + i * 1000, speedKmh: 20 }),
            30_000,
          );
          if (answer !== 0) refused++;
          latencies.push(performance.now() - t);
        }
      }),
    );
  }),
);
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const sent = terminals.length * job.messagesPerTerminal;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
process.stdout.write(
  `${JSON.stringify({ sent, refused, elapsedMs, p50: pct(0.5), p99: pct(0.99), cpuUsPerMessage: (cpu.user + cpu.system) / Math.max(1, sent) })}\n`,
);
for (const terminal of terminals) terminal.close();
process.exit(0);
