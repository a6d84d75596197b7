/**
 * The gateway's folders, lowest first: each may import only those before it (docs/architecture.md
 * says what each holds). The files at the top of src/ (app, server, cli, demo, attach-telemetry,
 * index) put the gateway together and sit above them all.
 */
const GATEWAY_LAYERS = ['redis', 'geometry', 'auth', 'media', 'store', 'core', 'stats', 'tickets', 'telemetry', 'webhooks', 'http', 'routes'];

/** One rule per folder: nothing in it imports a folder above it, or the composition files. */
const layerRules = GATEWAY_LAYERS.map((folder, index) => ({
  name: `layer-${folder}`,
  severity: 'error',
  comment: `packages/gateway/src/${folder} may import only ${GATEWAY_LAYERS.slice(0, index).join(', ') || 'no other folder'} (the layers below it).`,
  from: { path: `^packages/gateway/src/${folder}/`, pathNot: '\\.test\\.ts$' },
  to: { path: `^packages/gateway/src/(${[...GATEWAY_LAYERS.slice(index + 1), '[^/]+\\.ts$'].join('|')})` },
}));

/**
 * Which way the code may depend (dependency-cruiser; checked by test-support/dependency-rules.test.ts,
 * which also checks that the gateway's folders form no cycle).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or round a loop: one of them belongs elsewhere.',
      from: { path: '^packages/[^/]+/src' },
      to: { circular: true },
    },
    {
      name: 'model-has-no-io',
      severity: 'error',
      comment: 'packages/model is shapes and rules only: it runs in browsers and mini-programs, so no Node built-ins, no Redis, no HTTP.',
      from: { path: '^packages/model/src', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'model-depends-on-nothing-of-ours',
      severity: 'error',
      from: { path: '^packages/model/src' },
      to: { path: '^packages/(gateway|sdk|widget)/' },
    },
    {
      name: 'sdk-not-to-gateway-or-widget',
      severity: 'error',
      comment: 'The SDK talks to the gateway over HTTP; it never imports its code.',
      from: { path: '^packages/sdk/src', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/(gateway|widget)/' },
    },
    {
      name: 'widget-not-to-gateway',
      severity: 'error',
      from: { path: '^packages/widget/src', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/gateway/' },
    },
    {
      name: 'packages-not-to-examples-or-test-support',
      severity: 'error',
      comment: 'Published code never imports an example or a test helper.',
      from: { path: '^packages/[^/]+/src', pathNot: '\\.test\\.ts$' },
      to: { path: '^(examples|test-support)/' },
    },
    {
      name: 'redis-through-stores',
      severity: 'error',
      comment:
        'Key names, scripts, leases and pipelined reads belong to store/ (and redis/ itself): everything else reads and writes Redis through a store. ' +
        'Exceptions: the composition files (app.ts registers the scripts; index.ts exports the key table for tests and tools) and the command bus, ' +
        'a publish/subscribe channel between gateways rather than stored data.',
      from: {
        path: '^packages/gateway/src/',
        pathNot: [
          '\\.test\\.ts$',
          '^packages/gateway/src/(store|redis)/',
          '^packages/gateway/src/[^/]+\\.ts$',
          '^packages/gateway/src/telemetry/commands/bus\\.ts$',
        ],
      },
      to: { path: '^packages/gateway/src/redis/(keys|read-pipeline|lease-claim|create-script|commit-script)\\.ts$|^packages/gateway/src/redis/scripts/' },
    },
    {
      name: 'composition-root-on-top',
      severity: 'error',
      comment: 'app.ts, server.ts and cli.ts put the gateway together; nothing below them imports them.',
      from: { path: '^packages/gateway/src/[^/]+/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/gateway/src/(app|server|cli)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs'],
    },
  },
};
