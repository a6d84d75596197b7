import { startConsole } from './console.js';

// Started by `npm start` (the demo launcher, examples/demo) with the demo tenant's keys, or by hand.
const required = (name: string) => {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`dispatcher-console: set ${name} (npm start prints it).\n`);
    process.exit(1);
  }
  return value;
};

const port = Number(process.env.CONSOLE_PORT ?? 8091);
// Who the console acts as; behind the command centre's sign-in this comes from the operator's account.
const role = process.env.CONSOLE_ROLE ?? 'dispatcher';
if (role !== 'dispatcher' && role !== 'supervisor' && role !== 'admin') {
  process.stderr.write(`dispatcher-console: CONSOLE_ROLE must be dispatcher, supervisor or admin, not ${role}.\n`);
  process.exit(1);
}
const operator = {
  sub: process.env.CONSOLE_OPERATOR ?? 'console-dispatcher',
  role,
  ...(process.env.CONSOLE_OPERATOR_NAME ? { name: process.env.CONSOLE_OPERATOR_NAME } : {}),
} as const;
// With OIDC_ISSUER set, staff sign in with the city's identity provider instead (docs/console.md).
const oidc = process.env.OIDC_ISSUER
  ? {
      issuer: process.env.OIDC_ISSUER,
      clientId: required('OIDC_CLIENT_ID'),
      clientSecret: required('OIDC_CLIENT_SECRET'),
      ...(process.env.OIDC_ROLE_CLAIM ? { roleClaim: process.env.OIDC_ROLE_CLAIM } : {}),
      ...(process.env.OIDC_SCOPE ? { scope: process.env.OIDC_SCOPE } : {}),
      allowHttp: process.env.OIDC_ALLOW_HTTP === 'true',
    }
  : undefined;
// With map tiles configured the console draws a MapLibre map; without, the district outline (docs/console.md).
const map =
  process.env.CONSOLE_MAP_STYLE_URL || process.env.CONSOLE_MAP_TILE_URL
    ? {
        ...(process.env.CONSOLE_MAP_STYLE_URL ? { styleUrl: process.env.CONSOLE_MAP_STYLE_URL } : {}),
        ...(process.env.CONSOLE_MAP_TILE_URL ? { tileUrl: process.env.CONSOLE_MAP_TILE_URL } : {}),
        ...(process.env.CONSOLE_MAP_ATTRIBUTION ? { attribution: process.env.CONSOLE_MAP_ATTRIBUTION } : {}),
        ...(process.env.CONSOLE_MAP_ORIGINS
          ? {
              origins: process.env.CONSOLE_MAP_ORIGINS.split(',')
                .map((o) => o.trim())
                .filter(Boolean),
            }
          : {}),
      }
    : undefined;
try {
  const console = await startConsole({
    gatewayUrl: required('CIVICLOOP_URL'),
    secretKey: required('CIVICLOOP_SECRET_KEY'),
    publishableKey: required('CIVICLOOP_PUBLISHABLE_KEY'),
    port,
    host: process.env.CONSOLE_HOST ?? '127.0.0.1',
    operator,
    ...(oidc ? { oidc } : {}),
    ...(map ? { map } : {}),
    ...(process.env.CONSOLE_PUBLIC_URL ? { publicUrl: process.env.CONSOLE_PUBLIC_URL } : {}),
    firstScreen: process.env.CONSOLE_FIRST_SCREEN !== 'false',
  });
  process.stdout.write(`Dispatcher console: ${console.url}\n`);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE'
      ? `dispatcher-console: port ${port} is taken; set DEMO_CONSOLE_PORT (or CONSOLE_PORT when run by hand) to a free port.\n`
      : `dispatcher-console: ${String(error)}\n`,
  );
  process.exit(1);
}
