// The floor for list pages in bench:api: a bare fastify route that reads a page of the gateway's
// own tickets the cheapest way a list can on a cluster too (the status index's newest 21 entries,
// then the 20 documents in one script with their keys declared) and writes the stored documents
// out as they are, each with its number. No authentication, no validation, no parsing, no
// filtering, no redaction, no computed fields, no schema serialisation: whatever ratio this
// reaches, a list that serves the same page cannot beat it.
import Fastify from 'fastify';
import { connectRedis, defineScript } from '@civicloop/gateway';

const READ = `
local out = {}
for i, key in ipairs(KEYS) do
  local fields = redis.call('HMGET', key, 'doc', 'number')
  out[2 * i - 1] = fields[1]
  out[2 * i] = fields[2]
end
return out
`;

// The gateway's own Redis client and options, so the ratio is not about which client is faster.
const redis = await connectRedis({ url: process.env.REDIS_URL!, cluster: false });
defineScript(redis, 'floorReadTickets', READ);
const readTickets = (keys: string[]) =>
  (redis as unknown as { floorReadTickets(n: number, ...k: string[]): Promise<(string | null)[]> }).floorReadTickets(keys.length, ...keys);

const app = Fastify({ logger: false });
app.get('/tickets', async (request, reply) => {
  const { tenant, status } = request.query as { tenant: string; status: string };
  // The gateway's key names (packages/gateway/src/redis/keys.ts): the floor reads what the gateway wrote.
  const base = `cl:{${tenant}}:`;
  const ids = await redis.zrange(`${base}idx:status:${status}`, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 21);
  const flat = await readTickets(ids.slice(0, 20).map((id) => `${base}ticket:${id}`));
  const items: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (flat[i]) items.push(`{"number":${JSON.stringify(flat[i + 1])},${flat[i]!.slice(1)}`);
  reply.header('content-type', 'application/json; charset=utf-8');
  return `{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(ids[20] ?? null)}}`;
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
// An orderly exit on the benchmark's SIGTERM, so that node's --cpu-prof (BENCH_FLOOR_NODE_ARGS) writes its profile.
process.on('SIGTERM', () => process.exit(0));
