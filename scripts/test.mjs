// The whole test suite, as `npm test` and .ci/run run it: format and lint (Biome), build every package, type-check the
// repository, run vitest (real redis-server, real HTTP), then build and run examples/node-sdk
// against a real gateway. Ends with one summary line: "tests: N passed, M failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
const run = (label, command, args) => {
  process.stdout.write(`\n== ${label}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status === 0;
};

let passed = 0;
let failed = 0;
const step = (label, command, args) => {
  const ok = run(label, command, args);
  if (!ok) failed++;
  return ok;
};

step('format and lint (biome)', 'npx', ['biome', 'ci', '--error-on-warnings', '.']);
if (step('build (turbo)', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']) && step('type-check', 'npx', ['tsc', '-p', 'tsconfig.json'])) {
  mkdirSync('.test-results', { recursive: true });
  const vitestOk = run('vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.test-results/vitest.json']);
  try {
    const report = JSON.parse(readFileSync('.test-results/vitest.json', 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numTotalTestSuites > 0 && report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? 1 : 0);
  } catch {
    failed++;
  }
  if (!vitestOk && failed === 0) failed++;
  if (run('examples/node-sdk against a real gateway', 'node', ['scripts/run-example-node-sdk.mjs'])) passed++;
  else failed++;
}
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
