/**
 * Live demo: `npm start -- --simulate` at the repository root runs this against the demo
 * tenant. On its own:
 *
 *   CIVICLOOP_URL=http://127.0.0.1:8080 MQTT_URL=mqtt://127.0.0.1:1883 CIVICLOOP_SECRET_KEY=cl_sk_... npm start
 *
 * VEHICLES, WORKERS, SPEEDUP and REPORT_EVERY_TICKS tune it; Ctrl-C checks everyone out.
 */
import { runSimulation } from './simulate.js';

const secretKey = process.env.CIVICLOOP_SECRET_KEY;
if (!secretKey) {
  console.error('Set CIVICLOOP_SECRET_KEY (the gateway prints the demo tenant\'s).');
  process.exit(2);
}
const number = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

const simulation = await runSimulation({
  baseUrl: process.env.CIVICLOOP_URL ?? 'http://127.0.0.1:8080',
  mqttUrl: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  secretKey,
  vehicles: number('VEHICLES', 3),
  workers: number('WORKERS', 5),
  speedup: number('SPEEDUP', 5),
  reportEveryTicks: number('REPORT_EVERY_TICKS', 20),
});
const report = setInterval(() => console.log(`simulator: ${JSON.stringify(simulation.stats)}`), 30_000);
const stop = async () => {
  clearInterval(report);
  await simulation.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
