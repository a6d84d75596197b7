// The baseline: a bare fastify route doing one Redis HSET, through the same Redis client as the
// gateway, so the ratio measures what CivicLoop adds (auth, validation, state machine, Lua).
import Fastify from 'fastify';
import { connectRedis } from '@civicloop/gateway';

const redis = await connectRedis({ url: process.env.REDIS_URL!, cluster: false });
const app = Fastify({ logger: false });
let n = 0;
app.post('/hset', async (request) => {
  const id = `bench:baseline:${n++ % 100000}`;
  await redis.hset(id, 'doc', JSON.stringify(request.body));
  return { id };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
