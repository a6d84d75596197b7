/**
 * Live demo: `npm start` at the repository root runs this against the demo tenant
 * (`npm start -- --no-simulate` does not). On its own:
 *
 *   CIVICLOOP_URL=http://127.0.0.1:8080 MQTT_URL=mqtt://127.0.0.1:1883 CIVICLOOP_SECRET_KEY=cl_sk_... npm start
 *
 * VEHICLES, WORKERS, SPEEDUP and REPORT_EVERY_TICKS tune it; UNIT_ID names the unit its workers
 * join (default sim-sanitation, created when missing); Ctrl-C checks everyone out.
 */
import { runSimulation } from './simulate.js';

const secretKey = process.env.CIVICLOOP_SECRET_KEY;
if (!secretKey) {
  console.error("Set CIVICLOOP_SECRET_KEY (the gateway prints the demo tenant's).");
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
  ...(process.env.UNIT_ID ? { unitId: process.env.UNIT_ID } : {}),
});
const report = setInterval(() => console.log(`simulator: ${JSON.stringify(simulation.stats)}`), 30_000);
// Checking everyone out needs the broker; when the gateway is gone too (npm start stopping), do
// not wait for it longer than a few seconds.
const stop = async () => {
  clearInterval(report);
  setTimeout(() => process.exit(0), 3000).unref();
  await simulation.stop().catch(() => undefined);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
