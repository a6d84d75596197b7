// The baseline: a bare fastify route doing one Redis HSET, with the same ioredis options as the
// gateway, so the ratio measures what CivicLoop adds (auth, validation, state machine, Lua).
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
const app = Fastify({ logger: false });
let n = 0;
app.post('/hset', async (request) => {
  const id = `bench:baseline:${n++ % 100000}`;
  await redis.hset(id, 'doc', JSON.stringify(request.body));
  return { id };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
