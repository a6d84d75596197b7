import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

/** Every line the gateway logs, at info and above, as written. */
const lines: string[] = [];
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway(
    {},
    { telemetry: true, logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } as { level: string } },
  );
});
afterAll(async () => {
  await gw?.redis.client.config('SET', 'maxmemory', '0');
  await gw?.close();
});

const logged = () => lines.join('');

describe("the gateway's log, read by whoever runs it", () => {
  it('holds no device secret that Traccar Client sent in the URL, as key or as id', async () => {
    const created = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'Phone' } });
    expect(created.status).toBe(201);
    const { device, credential } = created.body as { device: { id: string }; credential: { password: string } };
    const at = Math.floor(Date.now() / 1000) - 5;
    const byKey = await fetch(`${gw.url}/v1/osmand?key=${credential.password}&id=${device.id}&timestamp=${at}&lat=23.12&lon=113.32`, { method: 'POST' });
    const byId = await fetch(`${gw.url}/v1/osmand?id=${encodeURIComponent(credential.password)}&timestamp=${at + 1}&lat=23.12&lon=113.32`, { method: 'POST' });
    expect([byKey.status, byId.status]).toEqual([200, 200]);
    // fastify logs the URL on each request's first line ("incoming request").
    await expect.poll(() => lines.filter((line) => line.includes('"url":"/v1/osmand?')).length).toBe(2);
    expect(logged()).toContain(`/v1/osmand?key=[redacted]&id=${device.id}&timestamp=${at}&lat=23.12&lon=113.32`);
    expect(logged()).toContain(`/v1/osmand?id=[redacted]&timestamp=${at + 1}`);
    expect(logged()).not.toContain(credential.password.split('.')[1]);
  });

  it('holds no device secret that ThingsBoard-style firmware sent as the token in the path', async () => {
    const created = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'vehicle', name: 'DTU' } });
    expect(created.status).toBe(201);
    const { credential } = created.body as { credential: { password: string } };
    const base = `${gw.url}/api/v1/${credential.password}`;
    const posted = await fetch(`${base}/telemetry`, { method: 'POST', body: JSON.stringify({ latitude: 23.12, longitude: 113.32 }) });
    const asked = await fetch(`${base}/attributes?sharedKeys=interval`);
    const polled = await fetch(`${base}/rpc?timeout=200`);
    // Device-side RPC is not served: a 404 names the URL to its caller, and must not put the token in the log.
    const called = await fetch(`${base}/rpc`, { method: 'POST', body: JSON.stringify({ method: 'getCurrentTime', params: {} }) });
    expect([posted.status, asked.status, polled.status, called.status]).toEqual([200, 200, 408, 404]);
    await expect.poll(() => lines.filter((line) => line.includes('"url":"/api/v1/')).length).toBe(4);
    expect(logged()).toContain('"url":"/api/v1/[redacted]/telemetry"');
    expect(logged()).toContain('"url":"/api/v1/[redacted]/attributes?sharedKeys=interval"');
    expect(logged()).toContain('"url":"/api/v1/[redacted]/rpc?timeout=200"');
    expect(logged()).toContain('"url":"/api/v1/[redacted]/rpc"');
    expect(logged()).not.toContain(credential.password.slice(6));
  });

  it("holds no Open311 api_key sent in a POST's query string", async () => {
    const response = await fetch(`${gw.url}/open311/v2/requests.json?jurisdiction_id=${gw.tenant.code}&api_key=${gw.tenant.secretKey}`, {
      method: 'POST',
      body: new URLSearchParams({ service_code: 'sanitation.bin_overflow', lat: '23.12', long: '113.32', description: 'Bin full' }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => lines.some((line) => line.includes('"url":"/open311/v2/requests.json?'))).toBe(true);
    expect(logged()).toContain(`jurisdiction_id=${gw.tenant.code}&api_key=[redacted]`);
    expect(logged()).not.toContain(gw.tenant.secretKey.split('.')[1]);
  });

  it("logs a write Redis refused (out of memory) by the script's keys, without the report it carried", async () => {
    const marker = 'Call me on 13800138000 about the bin';
    // A real redis-server past its maxmemory: it refuses every write with OOM.
    await gw.redis.client.config('SET', 'maxmemory', '1');
    try {
      const refused = await inject(gw, 'POST', '/v1/tickets', {
        auth: gw.tenant.secretKey,
        body: { category: 'sanitation.bin_overflow', description: marker, location: { lat: 23.12, lon: 113.32 } },
      });
      expect(refused.status).toBe(503);
      expect((refused.body as { error: { code: string } }).error.code).toBe('CL_ERR_UNAVAILABLE');
      // The health check tells the operator why.
      expect((await inject(gw, 'GET', '/v1/health')).body).toMatchObject({ status: 'degraded', writes: 'refused', reason: expect.stringMatching(/^OOM/) });
    } finally {
      await gw.redis.client.config('SET', 'maxmemory', '0');
    }
    const failure = lines.find((line) => line.includes('"request failed"') && line.includes('OOM command not allowed'));
    expect(failure, 'the failed request is logged with its cause').toBeDefined();
    const err = (JSON.parse(failure as string) as { err: { command: { name: string; keys: string[]; argCount: number } } }).err;
    expect(['eval', 'evalsha']).toContain(err.command.name);
    expect(err.command.keys.some((key) => key.startsWith(`cl:{${gw.tenant.id}}:`))).toBe(true);
    expect(err.command.argCount).toBeGreaterThan(err.command.keys.length);
    expect(logged()).not.toContain('13800138000');
  });
});
