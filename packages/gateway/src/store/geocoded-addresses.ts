import type { Cluster, Redis } from 'ioredis';
import type { AddressCache, CachedPlace } from '../geometry/geocoder.js';
import { globalKeys } from '../redis/keys.js';

/** The geocoder's answers, shared by every gateway, each kept for GEOCODER_CACHE_SECONDS. */
export class GeocodedAddresses implements AddressCache {
  constructor(private readonly redis: Redis | Cluster) {}

  async get(place: CachedPlace): Promise<string | null | undefined> {
    const kept = await this.redis.get(globalKeys.geocoded(place.provider, place.language, place.lat, place.lon));
    // Kept as JSON so that "nothing there" (null) is remembered too.
    return kept === null ? undefined : (JSON.parse(kept) as string | null);
  }

  async set(place: CachedPlace, address: string | null, ttlSeconds: number): Promise<void> {
    await this.redis.set(globalKeys.geocoded(place.provider, place.language, place.lat, place.lon), JSON.stringify(address), 'EX', ttlSeconds);
  }
}
