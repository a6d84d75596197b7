import { startPortal } from './portal.js';

// Started by `npm start` (the demo launcher, examples/demo) with the demo partner's keys, or by hand with a
// partner's keys (POST /v1/partners with the tenant's secret key makes them).
const required = (name: string) => {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`property-portal: set ${name} (npm start prints it).\n`);
    process.exit(1);
  }
  return value;
};

const port = Number(process.env.PORTAL_PORT ?? 8090);
try {
  const portal = await startPortal({
    gatewayUrl: required('CIVICLOOP_URL'),
    secretKey: required('CIVICLOOP_PARTNER_SECRET_KEY'),
    publishableKey: required('CIVICLOOP_PARTNER_PUBLISHABLE_KEY'),
    port,
    host: process.env.PORTAL_HOST ?? '127.0.0.1',
    // Its mini-program's sign-in (POST /wechat/session), when it has one.
    ...(process.env.WECHAT_APPID && process.env.WECHAT_APPSECRET
      ? { wechat: { appId: process.env.WECHAT_APPID, appSecret: process.env.WECHAT_APPSECRET } }
      : {}),
  });
  process.stdout.write(`Property portal with the report widget: ${portal.url} (sign in with any flat number, e.g. 3-2-1201)\n`);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE'
      ? `property-portal: port ${port} is taken; set DEMO_PORTAL_PORT (or PORTAL_PORT when run by hand) to a free port.\n`
      : `property-portal: ${String(error)}\n`,
  );
  process.exit(1);
}
