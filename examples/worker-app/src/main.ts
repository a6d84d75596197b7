import { startWorkerApp } from './server.js';

// Started by `npm start` (the demo launcher, examples/demo) with the demo tenant's keys, or by hand.
const required = (name: string) => {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`worker-app: set ${name} (npm start prints it).\n`);
    process.exit(1);
  }
  return value;
};

const port = Number(process.env.WORKER_APP_PORT ?? 8092);
try {
  const app = await startWorkerApp({
    gatewayUrl: required('CIVICLOOP_URL'),
    secretKey: required('CIVICLOOP_SECRET_KEY'),
    publishableKey: required('CIVICLOOP_PUBLISHABLE_KEY'),
    ...(process.env.DEVICE_WS_URL ? { deviceUrl: process.env.DEVICE_WS_URL } : {}),
    port,
    host: process.env.WORKER_APP_HOST ?? '127.0.0.1',
  });
  process.stdout.write(`Worker app (open on a phone, or a narrow window): ${app.url}\n`);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE'
      ? `worker-app: port ${port} is taken; set DEMO_WORKER_APP_PORT (or WORKER_APP_PORT when run by hand) to a free port.\n`
      : `worker-app: ${String(error)}\n`,
  );
  process.exit(1);
}
