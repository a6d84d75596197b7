import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGETS } from '@civicloop/widget/budgets';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;

/** A raw GET, so the body is what went over the wire (fetch would decompress it). */
function rawGet(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('GET /widget/{file}', () => {
  it('serves the loader and the widget module to any page, as JavaScript, in CORS mode', async () => {
    for (const file of ['loader.js', 'civicloop-widget.js']) {
      const response = await fetch(`${gw.url}/widget/${file}`, { headers: { origin: 'https://any-portal.example' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await response.text()).length).toBeGreaterThan(100);
    }
    const loader = await (await fetch(`${gw.url}/widget/loader.js`)).text();
    expect(loader).toContain('civicloop-widget.js');
  });

  it('serves nothing else: other names and traversal attempts are 404 with a code', async () => {
    for (const attempt of ['package.json', '..%2Fpackage.json', 'index.js', '%2e%2e%2f%2e%2e%2fgateway%2fpackage.json']) {
      const response = await fetch(`${gw.url}/widget/${attempt}`);
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe('CL_ERR_NOT_FOUND');
    }
  });

  it('sends brotli or gzip as the browser accepts, with a strong ETag that answers 304 when unchanged', async () => {
    const plain = await rawGet('/widget/civicloop-widget.js', { 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    const etag = plain.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const br = await rawGet('/widget/civicloop-widget.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gzip = await rawGet('/widget/civicloop-widget.js', { 'accept-encoding': 'gzip;q=1, br;q=0' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    // What goes over the wire holds the widget's budget (27 KB gzipped), and brotli is smaller still.
    expect(gzip.body.length).toBeLessThan(BUDGETS['civicloop-widget.js']);
    expect(br.body.length).toBeLessThan(gzip.body.length);
    // The resident's small map comes as a file of its own, within its budget too.
    const pinMap = await rawGet('/widget/civicloop-pin-map.js', { 'accept-encoding': 'gzip' });
    expect(pinMap.status).toBe(200);
    expect(pinMap.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(pinMap.body.length).toBeLessThan(BUDGETS['civicloop-pin-map.js']);
    expect(br.headers.etag).toBe(etag);
    expect((await rawGet('/widget/civicloop-widget.js', { 'accept-encoding': 'br;q=0, gzip;q=0' })).headers['content-encoding']).toBeUndefined();

    const again = await rawGet('/widget/civicloop-widget.js', { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect((await rawGet('/widget/civicloop-widget.js', { 'if-none-match': '"something-else"' })).status).toBe(200);
    expect((await rawGet('/widget/loader.js', { 'if-none-match': etag })).status).toBe(200);
  });
});
