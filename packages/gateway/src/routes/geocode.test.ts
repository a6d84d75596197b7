import { http, HttpResponse, delay } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop, signToken } from '@civicloop/sdk';
import { fromWgs84 } from '@civicloop/model/crs';
import { loadConfig } from '../core/config.js';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// msw pins the providers' HTTP APIs (Nominatim, AMap), which cannot be run here, in the formats
// their documentation gives; the gateway in front of them is real. Requests to the test gateway pass.
const NOMINATIM = 'http://nominatim.test';
const AMAP = 'http://amap.test';
const providers = setupServer();
beforeAll(() => providers.listen({ onUnhandledRequest: 'bypass' }));
afterEach(() => providers.resetHandlers());
afterAll(() => providers.close());

// Guangzhou Tower by GPS, and where AMap draws it.
const TOWER = { lat: 23.10647, lon: 113.32446 };
const TOWER_GCJ = fromWgs84(TOWER.lat, TOWER.lon, 'gcj02');

/** A resident's client; it does not retry, so a failure is seen as the gateway answered it. */
async function resident(gw: TestGateway): Promise<CivicLoop> {
  return new CivicLoop({
    baseUrl: gw.url,
    apiKey: gw.tenant.publishableKey,
    token: await signToken({ secretKey: gw.tenant.secretKey, sub: 'resident-1', role: 'citizen' }),
    maxRetries: 0,
  });
}

describe('GET /v1/geocode/reverse', { timeout: 60_000 }, () => {
  it('says plainly that no geocoder is configured', async () => {
    const gw = await startTestGateway();
    try {
      await expect((await resident(gw)).reverseGeocode(TOWER)).rejects.toMatchObject({ code: 'CL_ERR_GEOCODER_OFF', status: 404 });
    } finally {
      await gw.close();
    }
  });

  it('asks Nominatim in WGS-84 with its language, keeps the answer, and says when Nominatim fails', async () => {
    const gw = await startTestGateway({ geocoder: 'nominatim', geocoderUrl: NOMINATIM, geocoderTimeoutMs: 300 });
    const asked: URL[] = [];
    const agents: (string | null)[] = [];
    let answer: 'found' | 'nothing' | 'error' | 'slow' = 'found';
    providers.use(
      http.get(`${NOMINATIM}/reverse`, async ({ request }) => {
        asked.push(new URL(request.url));
        agents.push(request.headers.get('user-agent'));
        if (answer === 'error') return new HttpResponse('overloaded', { status: 503 });
        if (answer === 'slow') await delay(2000);
        if (answer === 'nothing') return HttpResponse.json({ error: 'Unable to geocode' });
        return HttpResponse.json({
          place_id: 1,
          licence: 'Data © OpenStreetMap contributors, ODbL 1.0.',
          osm_type: 'way',
          lat: String(TOWER.lat),
          lon: String(TOWER.lon),
          category: 'tourism',
          type: 'attraction',
          display_name: 'Canton Tower, Yuejiang West Road, Haizhu District, Guangzhou, 510310, China',
          address: { city: 'Guangzhou' },
        });
      }),
    );
    try {
      const client = await resident(gw);
      // The widget's pin on a GCJ-02 map: the gateway brings it to WGS-84 before asking.
      expect(await client.reverseGeocode({ lat: TOWER_GCJ.lat, lon: TOWER_GCJ.lon, crs: 'gcj02' }, { language: 'en' })).toBe(
        'Canton Tower, Yuejiang West Road, Haizhu District, Guangzhou, 510310, China',
      );
      expect(asked).toHaveLength(1);
      const query = Object.fromEntries(asked[0]!.searchParams);
      expect(query).toMatchObject({ format: 'jsonv2', 'accept-language': 'en' });
      expect(Number(query.lat)).toBeCloseTo(TOWER.lat, 5);
      expect(Number(query.lon)).toBeCloseTo(TOWER.lon, 5);
      expect(agents[0]).toMatch(/^CivicLoop gateway/);
      // The same point again (within about 10 m): answered from Redis, Nominatim not asked.
      expect(await client.reverseGeocode({ lat: TOWER.lat + 0.00001, lon: TOWER.lon, crs: 'wgs84' }, { language: 'en' })).toBe(
        'Canton Tower, Yuejiang West Road, Haizhu District, Guangzhou, 510310, China',
      );
      expect(asked).toHaveLength(1);
      // Nowhere (the sea): null, remembered too.
      answer = 'nothing';
      expect(await client.reverseGeocode({ lat: 10, lon: 120, crs: 'wgs84' })).toBeNull();
      expect(await client.reverseGeocode({ lat: 10, lon: 120, crs: 'wgs84' })).toBeNull();
      expect(asked).toHaveLength(2);
      // Nominatim down or slow: a retryable error that names the setting; nothing kept.
      answer = 'error';
      await expect(client.reverseGeocode({ lat: 23.2, lon: 113.2, crs: 'wgs84' })).rejects.toMatchObject({
        code: 'CL_ERR_GEOCODER_UNAVAILABLE',
        status: 502,
        retryable: true,
        message: 'The geocoder (GEOCODER=nominatim) answered HTTP 503; try again later, or type the address.',
      });
      answer = 'slow';
      await expect(client.reverseGeocode({ lat: 23.2, lon: 113.2, crs: 'wgs84' })).rejects.toMatchObject({
        code: 'CL_ERR_GEOCODER_UNAVAILABLE',
        message: 'The geocoder (GEOCODER=nominatim) did not answer within GEOCODER_TIMEOUT_MS (300 ms); try again later, or type the address.',
      });
      answer = 'found';
      expect(await client.reverseGeocode({ lat: 23.2, lon: 113.2, crs: 'wgs84' })).toBe(
        'Canton Tower, Yuejiang West Road, Haizhu District, Guangzhou, 510310, China',
      );
      // A point out of range is refused by the schema, before any provider is asked.
      const before = asked.length;
      await expect(client.reverseGeocode({ lat: 91, lon: 113.2 })).rejects.toMatchObject({ code: 'CL_ERR_VALIDATION' });
      expect(asked).toHaveLength(before);
    } finally {
      await gw.close();
    }
  });

  it("asks AMap in GCJ-02 with the gateway's key, and passes on its refusal", async () => {
    const gw = await startTestGateway({ geocoder: 'amap', geocoderUrl: AMAP, geocoderKey: 'amap-web-key' });
    const asked: URL[] = [];
    let refuse = false;
    providers.use(
      http.get(`${AMAP}/v3/geocode/regeo`, ({ request }) => {
        asked.push(new URL(request.url));
        if (refuse) return HttpResponse.json({ status: '0', info: 'INVALID_USER_KEY', infocode: '10001' });
        return HttpResponse.json({
          status: '1',
          info: 'OK',
          infocode: '10000',
          regeocode: { formatted_address: '广东省广州市海珠区阅江西路222号广州塔', addressComponent: { city: '广州市', district: '海珠区' } },
        });
      }),
    );
    try {
      const client = await resident(gw);
      // A GPS point (the browser's fix): AMap is asked where its own map draws it.
      expect(await client.reverseGeocode({ ...TOWER, crs: 'wgs84' })).toBe('广东省广州市海珠区阅江西路222号广州塔');
      const query = Object.fromEntries(asked[0]!.searchParams);
      expect(query.key).toBe('amap-web-key');
      const [lon, lat] = query.location!.split(',').map(Number);
      expect(lat).toBeCloseTo(TOWER_GCJ.lat, 5);
      expect(lon).toBeCloseTo(TOWER_GCJ.lon, 5);
      refuse = true;
      await expect(client.reverseGeocode({ lat: 23.3, lon: 113.3, crs: 'wgs84' })).rejects.toMatchObject({
        code: 'CL_ERR_GEOCODER_UNAVAILABLE',
        message: 'The geocoder (GEOCODER=amap) refused: INVALID_USER_KEY; try again later, or type the address.',
      });
    } finally {
      await gw.close();
    }
  });

  it('will not start with an unknown geocoder, or AMap without its key, naming the variable', () => {
    expect(() => loadConfig({ GEOCODER: 'google' })).toThrow('GEOCODER="google" is not a geocoder: use none, nominatim or amap; change GEOCODER.');
    expect(() => loadConfig({ GEOCODER: 'amap' })).toThrow(
      'GEOCODER=amap needs GEOCODER_KEY (the AMap web-service key); set GEOCODER_KEY, or set GEOCODER to none.',
    );
    expect(loadConfig({ GEOCODER: 'amap', GEOCODER_KEY: 'k' })).toMatchObject({
      geocoder: 'amap',
      geocoderKey: 'k',
      geocoderTimeoutMs: 3000,
      geocoderCacheSeconds: 604800,
    });
  });
});
