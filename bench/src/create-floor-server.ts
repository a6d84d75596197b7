// The floor for creates in bench:api: a bare fastify route that makes only the Redis writes a
// create cannot do without (a ticket number from a per-day sequence, the document, the first
// history entry, the ticket in four list indexes, the entry in the tenant's event stream), in one
// script as the gateway does, and answers with the ticket. No authentication, no validation, no
// idempotency, no state machine, no likely-duplicate search, no routing, no statistics: whatever
// ratio this reaches, a create that makes these writes and more cannot beat it.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

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

const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
redis.defineCommand('floorCreate', { lua: WRITE });
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
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
