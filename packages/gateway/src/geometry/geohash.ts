// Redis keeps GEO sets as sorted sets scored by a 52-bit interleaved geohash. Computing the same
// score here lets a ticket's place be indexed with the plain ZADD/ZREM of its other indexes, and
// still be searched with GEOSEARCH.
const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const STEP = 26;

/** The bits of a 13-bit number spread to the even positions of 26 (32-bit integer arithmetic). */
function spread13(value: number): number {
  let x = value & 0x1fff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

/** The bits of a 26-bit number spread to the even positions of 52: below 2^53, so exact in a double. */
function spread(value: number): number {
  return spread13(value) + spread13(Math.floor(value / 0x2000)) * 2 ** 26;
}

/**
 * The score GEOADD would give this point (latitude bits even, longitude bits odd). Plain numbers,
 * not BigInt: every ticket write scores its place twice (before and after), and BigInt shifts
 * cost several times as much.
 */
export function geohashScore(lon: number, lat: number): number {
  const scale = 2 ** STEP;
  const latBits = Math.floor(((lat - LAT_MIN) / (LAT_MAX - LAT_MIN)) * scale);
  const lonBits = Math.floor(((lon + 180) / 360) * scale);
  return spread(latBits) + spread(lonBits) * 2;
}
