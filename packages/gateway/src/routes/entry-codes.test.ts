import jsQR from 'jsqr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotRedis, startTestGateway, type TestGateway, inject } from '@civicloop/test-support/gateway-harness.js';
import { entryUrl } from './entry-codes.js';

let gw: TestGateway;
const PORTAL = 'https://portal.example.org';
beforeAll(async () => {
  gw = await startTestGateway();
  await gw.services.tenants.updatePolicy(gw.tenant.id, { allowedOrigins: [PORTAL] });
});
afterAll(async () => gw?.close());

/** What a phone's camera reads from the image. */
async function read(image: Buffer): Promise<string | undefined> {
  const { data, info } = await sharp(image).flatten({ background: '#fff' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return jsQR(new Uint8ClampedArray(data), info.width, info.height)?.data;
}

const place = { page: `${PORTAL}/report?estate=sunny`, lat: '23.1335', lon: '113.3242', crs: 'gcj02', name: 'Building 3, Sunny Gardens 阳光花园 3 栋' };
const query = (q: Record<string, string>) => new URLSearchParams(q).toString();

describe('QR entry codes', () => {
  it('prints a code, in SVG and PNG, that opens the report page with the place preset', async () => {
    const expected = entryUrl(place.page, { lat: 23.1335, lon: 113.3242, crs: 'gcj02', name: place.name });
    expect(new URL(expected).searchParams.get('cl-place')).toBe('23.1335,113.3242,gcj02');
    expect(new URL(expected).searchParams.get('estate')).toBe('sunny');
    const png = await fetch(`${gw.url}/v1/entry-codes/report.png?${query({ ...place, size: '400' })}`, {
      headers: { authorization: `Bearer ${gw.tenant.secretKey}` },
    });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const pngBytes = Buffer.from(await png.arrayBuffer());
    expect((await sharp(pngBytes).metadata()).width).toBe(400);
    expect(await read(pngBytes)).toBe(expected);

    const svg = await fetch(`${gw.url}/v1/entry-codes/report.svg?${query(place)}`, {
      headers: { authorization: `Bearer ${await gw.tenant.token('a-1', 'admin')}` },
    });
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const text = await svg.text();
    expect(text).toContain('<title>Building 3, Sunny Gardens 阳光花园 3 栋</title>');
    expect(await read(await sharp(Buffer.from(text), { density: 300 }).png().toBuffer())).toBe(expected);
  });

  it("prints codes only for pages on the tenant's allowed origins, only for staff who manage, writing nothing", async () => {
    const before = await snapshotRedis(gw.redis.client);
    const as = (auth: string, q: Record<string, string>) => inject(gw, 'GET', `/v1/entry-codes/report.svg?${query(q)}`, { auth });
    const elsewhere = await as(gw.tenant.secretKey, { ...place, page: 'https://phishing.example.net/report' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.code).toBe('CL_ERR_ORIGIN_NOT_ALLOWED');
    expect((await as(gw.tenant.secretKey, { ...place, page: 'not a url at all' })).body.error.code).toBe('CL_ERR_VALIDATION');
    expect((await as(gw.tenant.secretKey, { ...place, lat: '95' })).body.error.code).toBe('CL_ERR_VALIDATION');
    expect((await as(gw.tenant.secretKey, { ...place, name: '' })).body.error.code).toBe('CL_ERR_VALIDATION');
    expect((await inject(gw, 'GET', `/v1/entry-codes/report.gif?${query(place)}`, { auth: gw.tenant.secretKey })).status).toBe(400);
    expect((await as(await gw.tenant.token('flat-1', 'citizen'), place)).status).toBe(403);
    expect((await as(await gw.tenant.token('w-1', 'worker'), place)).status).toBe(403);
    expect((await inject(gw, 'GET', `/v1/entry-codes/report.svg?${query(place)}`, { key: gw.tenant.publishableKey })).status).toBe(403);
    expect(await snapshotRedis(gw.redis.client)).toEqual(before);
  });
});
