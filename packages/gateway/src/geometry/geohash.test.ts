import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { geohashScore } from './geohash.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => redis?.stop());

describe('geohashScore', () => {
  it('gives exactly the score GEOADD gives, so a ZADD-indexed place can be searched with GEOSEARCH', async () => {
    // Fixed points (corners, the equator, Tianhe) and a deterministic spread over the globe.
    const points: [number, number][] = [
      [0, 0],
      [-180, -85.05112878],
      [179.99999, 85.05],
      [113.3242, 23.1335],
      [-0.1276, 51.5072],
    ];
    for (let i = 0; i < 300; i++) points.push([((i * 7919) % 36000) / 100 - 180, ((i * 104729) % 17000) / 100 - 85]);
    const pipeline = redis.client.pipeline();
    for (const [i, [lon, lat]] of points.entries()) pipeline.geoadd('geo', lon, lat, `p${i}`);
    await pipeline.exec();
    const scores = await redis.client.zmscore('geo', ...points.map((_, i) => `p${i}`));
    expect(points.map(([lon, lat]) => geohashScore(lon, lat))).toEqual(scores.map(Number));
  });
});
