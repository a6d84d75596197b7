import { CivicLoopError } from '@civicloop/model';
import { fromWgs84 } from '@civicloop/model/crs';

export type AddressLanguage = 'zh-CN' | 'en';

/** Where a provider's answer is kept: a point rounded to 4 decimals (about 10 m), in one language. */
export interface CachedPlace {
  provider: string;
  language: AddressLanguage;
  lat: string;
  lon: string;
}

/** Answers kept between gateways (store/geocoded-addresses.ts): null is "the provider knows no address there", kept too. */
export interface AddressCache {
  /** The kept answer; undefined when none is kept. */
  get(place: CachedPlace): Promise<string | null | undefined>;
  set(place: CachedPlace, address: string | null, ttlSeconds: number): Promise<void>;
}

/** What a provider found at a WGS-84 point; undefined when it knows no address there. */
type Lookup = (lat: number, lon: number, language: AddressLanguage, signal: AbortSignal) => Promise<string | undefined>;

const DEFAULT_URL = { nominatim: 'https://nominatim.openstreetmap.org', amap: 'https://restapi.amap.com' } as const;

/** The provider answered, but not with what its documentation says it answers. */
class ProviderRefused extends Error {}

async function getJson(url: URL, signal: AbortSignal, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, { signal, headers: { accept: 'application/json', ...headers } });
  if (!response.ok) throw new ProviderRefused(`answered HTTP ${response.status}`);
  return response.json();
}

/**
 * Nominatim's reverse geocoding (https://nominatim.org/release-docs/latest/api/Reverse/): WGS-84
 * in, `display_name` out; `error` ("Unable to geocode") where it knows nothing. Its usage policy
 * wants an identifying User-Agent, which this sends, and caching, which the caller does.
 */
const nominatim =
  (base: string): Lookup =>
  async (lat, lon, language, signal) => {
    const url = new URL('reverse', base.endsWith('/') ? base : `${base}/`);
    url.search = new URLSearchParams({ format: 'jsonv2', lat: String(lat), lon: String(lon), zoom: '18', 'accept-language': language }).toString();
    const body = (await getJson(url, signal, { 'user-agent': 'CivicLoop gateway (https://github.com/civicloop)' })) as {
      display_name?: unknown;
      error?: unknown;
    };
    if (typeof body.display_name === 'string' && body.display_name) return body.display_name;
    if (body.error !== undefined) return undefined;
    throw new ProviderRefused('answered without display_name or error');
  };

/**
 * AMap's reverse geocoding web service (https://lbs.amap.com/api/webservice/guide/api/georegeo):
 * GCJ-02 "lon,lat" in, `regeocode.formatted_address` out (an empty array where it knows nothing);
 * `status` "0" with `info` when it refuses (a bad key, a spent quota). It answers in Chinese.
 */
const amap =
  (base: string, key: string): Lookup =>
  async (lat, lon, _language, signal) => {
    const gcj = fromWgs84(lat, lon, 'gcj02');
    const url = new URL('v3/geocode/regeo', base.endsWith('/') ? base : `${base}/`);
    url.search = new URLSearchParams({ key, location: `${gcj.lon.toFixed(6)},${gcj.lat.toFixed(6)}`, extensions: 'base', output: 'JSON' }).toString();
    const body = (await getJson(url, signal)) as { status?: unknown; info?: unknown; regeocode?: { formatted_address?: unknown } };
    if (body.status !== '1') throw new ProviderRefused(`refused: ${typeof body.info === 'string' ? body.info : `status ${String(body.status)}`}`);
    const address = body.regeocode?.formatted_address;
    return typeof address === 'string' && address ? address : undefined;
  };

/** The GEOCODER* settings (docs/configuration.md). */
export interface GeocoderSettings {
  geocoder: 'none' | 'nominatim' | 'amap';
  geocoderUrl?: string | undefined;
  geocoderKey?: string | undefined;
  geocoderTimeoutMs: number;
  geocoderCacheSeconds: number;
}

/**
 * Reverse geocoding for the widget's pin: the configured provider asked from the gateway (so its
 * key stays here and browsers need no new CSP origin), answers kept in Redis per point (about
 * 10 m) and language for GEOCODER_CACHE_SECONDS.
 */
export class Geocoder {
  private readonly lookup: Lookup | undefined;

  constructor(
    private readonly config: GeocoderSettings,
    private readonly cache: AddressCache,
  ) {
    if (config.geocoder === 'nominatim') this.lookup = nominatim(config.geocoderUrl ?? DEFAULT_URL.nominatim);
    // loadConfig has made sure AMap has its key.
    if (config.geocoder === 'amap') this.lookup = amap(config.geocoderUrl ?? DEFAULT_URL.amap, config.geocoderKey ?? '');
  }

  /** The address at a WGS-84 point, or null where the provider knows none. */
  async reverse(lat: number, lon: number, language: AddressLanguage): Promise<string | null> {
    if (!this.lookup)
      throw new CivicLoopError('CL_ERR_GEOCODER_OFF', 'No geocoder is configured (GEOCODER=none); set GEOCODER to nominatim or amap to look addresses up.');
    const place: CachedPlace = { provider: this.config.geocoder, language, lat: lat.toFixed(4), lon: lon.toFixed(4) };
    if (this.config.geocoderCacheSeconds > 0) {
      const kept = await this.cache.get(place);
      if (kept !== undefined) return kept;
    }
    let address: string | undefined;
    try {
      address = await this.lookup(lat, lon, language, AbortSignal.timeout(this.config.geocoderTimeoutMs));
    } catch (error) {
      const why =
        error instanceof ProviderRefused
          ? error.message
          : error instanceof Error && error.name === 'TimeoutError'
            ? `did not answer within GEOCODER_TIMEOUT_MS (${this.config.geocoderTimeoutMs} ms)`
            : `could not be reached (${error instanceof Error ? error.message : String(error)})`;
      throw new CivicLoopError('CL_ERR_GEOCODER_UNAVAILABLE', `The geocoder (GEOCODER=${this.config.geocoder}) ${why}; try again later, or type the address.`);
    }
    if (this.config.geocoderCacheSeconds > 0) await this.cache.set(place, address ?? null, this.config.geocoderCacheSeconds);
    return address ?? null;
  }
}
