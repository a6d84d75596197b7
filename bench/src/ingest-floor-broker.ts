// The floor for bench:ingest: aedes plus only what ingestion cannot do without for a position
// (parse it, check its coordinates, skip a fix already stored, append it to the device's track,
// move the device on the live map, keep its last fix), written the way the gateway writes: one
// script per event-loop turn for all the turn's messages, PUBACK after it. No authentication, no
// topic check, no counters, no offline index, no live-map stream, no arrival hooks: whatever
// ratio this reaches, a gateway that makes these writes and more cannot beat it. Answers GET /
// with how many it stored.
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { Redis } from 'ioredis';

/** KEYS: live, then per device: seen, track, state. ARGV per device: id, count, newest lon, lat, fix, json, then per fix: time, json. */
const WRITE = `
local a = 1
for k = 2, #KEYS, 3 do
  local id, count, lon, lat, fix, json = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  a = a + 6
  for r = 0, count - 1 do
    if redis.call('ZADD', KEYS[k], 'NX', ARGV[a + r * 2], ARGV[a + r * 2]) == 1 then
      redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', 1000, '*', 'p', ARGV[a + r * 2 + 1])
    end
  end
  redis.call('GEOADD', KEYS[1], lon, lat, id)
  redis.call('HSET', KEYS[k + 2], 'fixTime', fix, 'position', json)
  a = a + count * 2
end
return 1
`;

interface Fix {
  time: number;
  lat: number;
  lon: number;
  json: string;
  acknowledge: () => void;
}

const redis = new Redis(process.env.REDIS_URL!);
redis.defineCommand('floorWrite', { lua: WRITE });
const floorWrite = (...args: (string | number)[]) => (redis as unknown as { floorWrite(...a: (string | number)[]): Promise<number> }).floorWrite(...args);

let stored = 0;
let pending = new Map<string, Fix[]>();
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = new Map();
  const keys = ['{floor}:live'];
  const args: (string | number)[] = [];
  for (const [device, fixes] of batch) {
    const newest = fixes.reduce((a, b) => (b.time > a.time ? b : a));
    keys.push(`{floor}:seen:${device}`, `{floor}:track:${device}`, `{floor}:state:${device}`);
    args.push(device, fixes.length, newest.lon, newest.lat, newest.time, newest.json);
    for (const fix of fixes) args.push(fix.time, fix.json);
  }
  void floorWrite(keys.length, ...keys, ...args).then(() => {
    for (const fixes of batch.values()) {
      stored += fixes.length;
      for (const fix of fixes) fix.acknowledge();
    }
  });
}

const broker = await Aedes.createBroker({
  concurrency: 1000,
  // aedes sends PUBACK once this calls back: after the write.
  authorizePublish: (client, packet, callback) => {
    if (!client) return callback(null);
    let body: { ts?: unknown; lat?: unknown; lon?: unknown };
    try {
      body = JSON.parse((packet.payload as Buffer).toString());
    } catch {
      return callback(null);
    }
    const { ts, lat, lon } = body;
    if (typeof ts !== 'number' || typeof lat !== 'number' || typeof lon !== 'number' || Math.abs(lat) > 90 || Math.abs(lon) > 180) return callback(null);
    const fixes = pending.get(client.id) ?? [];
    fixes.push({ time: ts, lat, lon, json: JSON.stringify({ deviceId: client.id, fixTime: ts, lat, lon }), acknowledge: () => callback(null) });
    pending.set(client.id, fixes);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  },
});
createServer(broker.handle).listen(Number(process.env.PORT), '127.0.0.1');
createHttpServer((_req, res) => res.end(JSON.stringify({ published: stored, rss: process.memoryUsage().rss }))).listen(
  Number(process.env.STATS_PORT),
  '127.0.0.1',
  () => process.stdout.write('ready\n'),
);
