#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CivicLoopError } from '@civicloop/model';
import { describeGateway } from './banner.js';
import { SETTINGS, loadConfig } from './core/config.js';
import { describeDemo, seedDemo } from './demo.js';
import { startGateway } from './server.js';

const HELP = `civicloop-gateway [start] [--demo]

Starts the CivicLoop gateway (HTTP API on PORT, default 8080). With REDIS_URL unset it runs its
own redis-server with AOF on and data under DATA_DIR (default ./.data).

  --demo       create the demo tenant (once, with its units, staff, the Tianhe zone that routes
               reports and the property portal's partner) and print its keys, tokens and URLs.
               The example pages and the fleet simulator beside it are the demo launcher's
               (examples/demo, \`npm start\` in the repository), not the gateway's.
  --help       this text

Environment:
${SETTINGS.map((s) => `  ${s.env.padEnd(26)} ${s.default === undefined ? '(unset)' : `default ${s.default}`}\n      ${s.doc}`).join('\n')}
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { demo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help || (positionals[0] && positionals[0] !== 'start')) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadConfig();
  const gateway = await startGateway({ config });
  const shutdown = (signal: string) => {
    gateway.app.log.info({ signal }, 'shutting down: draining requests');
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.app.log.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  const lines = describeGateway(gateway);
  if (values.demo) lines.push(...(await describeDemo(await seedDemo(gateway.services, config.dataDir), gateway.url, config.dataDir)));
  lines.push('', 'Ctrl-C stops the gateway (in-flight requests finish first).', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  if (error instanceof CivicLoopError) {
    process.stderr.write(`\n${error.code}: ${error.message}\n`);
  } else {
    process.stderr.write(`\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
