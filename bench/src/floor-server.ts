// The floors for creates and transitions in bench:api: bare fastify routes that make only the
// Redis reads and writes the gateway's route cannot do without, in one script as the gateway does,
// and answer with the ticket. No authentication, no validation, no idempotency, no state machine,
// no likely-duplicate search, no routing, no statistics: whatever ratio one of these reaches, the
// gateway's route, which does the same and more, cannot beat it.
//
// POST /tickets (create): a ticket number from a per-day sequence, the document, the first
// history entry, the ticket in four list indexes, the entry in the tenant's event stream.
// POST /tickets/:id/reassign (a transition): the document read with its version, then, only if
// the version is unchanged, the new document, a history entry, the ticket moved from one unit's
// index to the other's, the stream entry.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { connectRedis, defineScript } from '@civicloop/gateway';

const WRITE = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local number = ARGV[2] .. string.format('%04d', n)
redis.call('HSET', KEYS[2], number, ARGV[3])
redis.call('HSET', KEYS[3], 'doc', ARGV[4], 'v', '1', 'number', number)
redis.call('RPUSH', KEYS[4], ARGV[5])
for k = 6, #KEYS do redis.call('ZADD', KEYS[k], ARGV[7], ARGV[3]) end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'e', ARGV[5], 'n', number)
return number
`;

// The gateway's own Redis client and options, so the ratio is not about which client is faster.
const redis = await connectRedis({ url: process.env.REDIS_URL!, cluster: false });
defineScript(redis, 'floorCreate', WRITE);
const floorCreate = (...args: (string | number)[]) => (redis as unknown as { floorCreate(...a: (string | number)[]): Promise<string> }).floorCreate(...args);

const app = Fastify({ logger: false });
const key = (name: string) => `{floor}:${name}`;
app.post('/tickets', async (request) => {
  const report = request.body as { category: string; description: string; location: { lat: number; lon: number } };
  const id = randomUUID();
  const now = Date.now();
  const at = new Date(now).toISOString();
  const day = at.slice(0, 10).replaceAll('-', '');
  const ticket = { id, status: 'reported', version: 1, channel: 'api', createdAt: at, updatedAt: at, ...report };
  const event = JSON.stringify({
    ticketId: id,
    type: 'reported',
    at,
    actor: { role: 'service', sub: 'bench' },
    data: { category: report.category, location: report.location },
  });
  const number = await floorCreate(
    9,
    key('sequence'),
    key('numbers'),
    key(`ticket:${id}`),
    key(`history:${id}`),
    key('events'),
    key('index:all'),
    key('index:status:reported'),
    key(`index:category:${report.category}`),
    key('index:channel:api'),
    day,
    `FLOOR-${day}-`,
    id,
    JSON.stringify(ticket),
    event,
    100_000,
    now,
  );
  return { ...ticket, number };
});
const REASSIGN = `
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'v', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
if KEYS[4] ~= KEYS[5] then
  redis.call('ZREM', KEYS[4], ARGV[5])
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[5])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[4])
return 1
`;
defineScript(redis, 'floorReassign', REASSIGN);
const floorReassign = (...args: (string | number)[]) =>
  (redis as unknown as { floorReassign(...a: (string | number)[]): Promise<number> }).floorReassign(...args);

app.post('/tickets/:id/reassign', async (request, reply) => {
  const { id } = request.params as { id: string };
  const { unitId } = request.body as { unitId: string };
  const [doc, version] = await redis.hmget(key(`ticket:${id}`), 'doc', 'v');
  if (!doc || !version) return reply.code(404).send({ error: 'no such ticket' });
  const before = JSON.parse(doc) as { unitId?: string; createdAt: string; version: number };
  const at = new Date().toISOString();
  const ticket = { ...before, unitId, version: Number(version) + 1, updatedAt: at };
  const event = JSON.stringify({ ticketId: id, type: 'reassigned', at, actor: { role: 'service', sub: 'bench' }, data: { unitId } });
  const wrote = await floorReassign(
    5,
    key(`ticket:${id}`),
    key(`history:${id}`),
    key('events'),
    key(`index:unit:${before.unitId ?? ''}`),
    key(`index:unit:${unitId}`),
    version,
    JSON.stringify(ticket),
    ticket.version,
    event,
    id,
    Date.parse(before.createdAt),
    100_000,
  );
  if (!wrote) return reply.code(409).send({ error: 'changed meanwhile' });
  return ticket;
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
// An orderly exit on the benchmark's SIGTERM, so that node's --cpu-prof (BENCH_FLOOR_NODE_ARGS) writes its profile.
process.on('SIGTERM', () => process.exit(0));
