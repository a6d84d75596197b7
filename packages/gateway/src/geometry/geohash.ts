// Redis keeps GEO sets as sorted sets scored by a 52-bit interleaved geohash. Computing the same
// score here lets a ticket's place be indexed with the plain ZADD/ZREM of its other indexes, and
// still be searched with GEOSEARCH.
const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const STEP = 26;

function spread(value: bigint): bigint {
  let x = value & 0xffffffffn;
  x = (x | (x << 16n)) & 0x0000ffff0000ffffn;
  x = (x | (x << 8n)) & 0x00ff00ff00ff00ffn;
  x = (x | (x << 4n)) & 0x0f0f0f0f0f0f0f0fn;
  x = (x | (x << 2n)) & 0x3333333333333333n;
  x = (x | (x << 1n)) & 0x5555555555555555n;
  return x;
}

/** The score GEOADD would give this point (latitude bits even, longitude bits odd). */
export function geohashScore(lon: number, lat: number): number {
  const scale = 2 ** STEP;
  const latBits = BigInt(Math.floor(((lat - LAT_MIN) / (LAT_MAX - LAT_MIN)) * scale));
  const lonBits = BigInt(Math.floor(((lon + 180) / 360) * scale));
  return Number(spread(latBits) | (spread(lonBits) << 1n));
}
