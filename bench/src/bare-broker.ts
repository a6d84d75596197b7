// The baseline for bench:ingest: a bare aedes broker, no authentication, no ingestion. It
// counts publishes and answers GET /count on a side port so the bench can tell when it is done.
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker({ concurrency: 1000 });
let published = 0;
broker.on('publish', (_packet, client) => {
  if (client) published++;
});
const port = Number(process.env.PORT);
createServer(broker.handle).listen(port, '127.0.0.1');
createHttpServer((_req, res) => res.end(JSON.stringify({ published, rss: process.memoryUsage().rss }))).listen(
  Number(process.env.STATS_PORT),
  '127.0.0.1',
  () => process.stdout.write('ready\n'),
);
