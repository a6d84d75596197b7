import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../../../test-support/gateway-harness.js';

let gw: TestGateway;
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
});
