// The load for bench:ingest, in its own process: K devices, each publishing positions as fast
// as it may (QoS 1: up to INFLIGHT unacknowledged at a time; QoS 0: as the socket drains).
// Prints `publishing` when the load starts, then one JSON line: how many were sent, how long it
// took, PUBACK latencies (QoS 1) and its own CPU time per message.
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';

interface Job {
  url: string;
  devices: { username: string; password: string; topic: string }[];
  messagesPerDevice: number;
  qos: 0 | 1;
  inflight: number;
  /** Only connect and stay connected (for the memory measure), until stdin closes. */
  holdOnly?: boolean;
  /** Each device's payloads, built beforehand (an OwnTracks load, sealed or not); native positions otherwise. */
  payloads?: string[][];
}

const job = JSON.parse(readFileSync(process.env.JOB_FILE!, 'utf8')) as Job;
const clients: MqttClient[] = [];
for (let i = 0; i < job.devices.length; i += 200) {
  clients.push(
    ...(await Promise.all(
      job.devices
        .slice(i, i + 200)
        .map((d) => mqtt.connectAsync(job.url, { username: d.username, password: d.password, protocolVersion: 4, reconnectPeriod: 0, keepalive: 600 })),
    )),
  );
}
if (job.holdOnly) {
  process.stdout.write(`${JSON.stringify({ connected: clients.length })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  const latencies: number[] = [];
  const base = Date.now() - job.messagesPerDevice - 60_000;
  // Tells the bench the load starts now: starting this process and connecting are not load.
  process.stdout.write('publishing\n');
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    clients.map(async (client, d) => {
      const topic = job.devices[d]!.topic;
      let next = 0;
      const lanes = job.qos === 1 ? job.inflight : 1;
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          while (next < job.messagesPerDevice) {
            const i = next++;
            const payload = job.payloads?.[d]?.[i] ?? JSON.stringify({ ts: base + i, lat: 23.1 + (i % 1000) * 1e-5, lon: 113.3, speed: 20 });
            const t = performance.now();
            await client.publishAsync(topic, payload, { qos: job.qos });
            if (job.qos === 1) latencies.push(performance.now() - t);
          }
        }),
      );
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuUsPerMessage = (cpu.user + cpu.system) / Math.max(1, clients.length * job.messagesPerDevice);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  process.stdout.write(`${JSON.stringify({ sent: clients.length * job.messagesPerDevice, elapsedMs, p50: pct(0.5), p99: pct(0.99), cpuUsPerMessage })}\n`);
  await Promise.all(clients.map((c) => c.endAsync()));
  process.exit(0);
}
