/**
 * Which way the code may depend (dependency-cruiser; checked by test-support/dependency-rules.test.ts,
 * which also checks that the gateway's folders form no new cycle).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
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
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs'] },
  },
};
