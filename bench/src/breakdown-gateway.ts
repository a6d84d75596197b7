// One gateway for bench:create-breakdown, with one part of ticket creation replaced according
// to argv[2]: nostore (no store write at all), noredis (the write is encoded, not sent),
// noop-script (sent, but the script does nothing) or full (the real gateway).
import { buildApp, connectRedis, loadConfig } from '@civicloop/gateway';

const variant = process.argv[2] ?? 'full';
const redis = await connectRedis({ url: process.env.REDIS_URL!, cluster: false });
const config = loadConfig(
  {},
  { port: 0, redisUrl: process.env.REDIS_URL, logLevel: 'silent', rateLimitPerKey: 0, rateLimitPerAddress: 0, mqttEnabled: false, jt808Port: false },
);
const gateway = await buildApp({ config, redis, masterKey: 'bench', logger: false });
const issued = await gateway.services.tenants.create({ code: `B${Math.random().toString(36).slice(2, 7).toUpperCase()}`, name: 'Breakdown' });
const patchable = redis as unknown as Record<string, unknown>;
// What the store answers for a written ticket with no neighbours (CreateOutcome); without the
// stored document there is no JSON to answer with, so the answer is serialised from the schema.
if (variant === 'nostore')
  (gateway.services.tickets as unknown as Record<string, unknown>).create = async () => ({ kind: 'written', number: 'X-1', near: [], json: undefined });
if (variant === 'noredis') patchable.civicloopCreate = async () => ['ok', 'X-1'];
if (variant === 'noop-script') redis.defineCommand('civicloopCreate', { lua: "return {'ok', 'X-1'}" });
await gateway.app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write(`ready ${issued.secretKey}\n`);
