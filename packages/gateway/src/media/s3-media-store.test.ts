import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config.js';
import { freePort } from '../redis/embedded-redis.js';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

// s3rver: a real S3-API server (signature checks included) on a free port, data in a temp dir.
let s3: { close(): Promise<void> };
let s3Url: string;
let s3Dir: string;
let gw: TestGateway;
const S3_SETTINGS = {
  mediaS3Bucket: 'civicloop-photos',
  mediaS3AccessKeyId: 'S3RVER',
  mediaS3SecretAccessKey: 'S3RVER',
  mediaS3PathStyle: true,
  mediaS3Region: 'us-east-1',
};

beforeAll(async () => {
  s3Dir = mkdtempSync(path.join(tmpdir(), 'civicloop-s3-'));
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'civicloop-photos', configs: [] }] });
  await server.run();
  s3 = server;
  s3Url = `http://127.0.0.1:${port}`;
  gw = await startTestGateway({ mediaS3Endpoint: s3Url, ...S3_SETTINGS });
});
afterAll(async () => {
  await gw?.close();
  await s3?.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

async function upload(bytes: Buffer, target: TestGateway = gw) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'p.jpg');
  const response = await fetch(`${target.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${target.tenant.secretKey}` }, body: form });
  return { status: response.status, body: (await response.json()) as { url: string; thumbnailUrl: string; error?: { code: string; message: string } } };
}

describe('photos in an S3-compatible bucket (MEDIA_S3_*)', () => {
  it('stores the photo and its thumbnail in the bucket and serves them through the gateway', async () => {
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#48a' } })
      .jpeg()
      .toBuffer();
    const uploaded = await upload(photo);
    expect(uploaded.status).toBe(201);
    for (const url of [uploaded.body.url, uploaded.body.thumbnailUrl]) {
      const served = await fetch(gw.url + url);
      expect(served.status).toBe(200);
      expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).format).toBe('jpeg');
      // And it really is in the bucket, under the same key.
      const key = url.slice('/v1/media/'.length);
      const object = await fetch(`${s3Url}/civicloop-photos/${key}`, { method: 'HEAD' });
      expect(object.status).toBe(200);
      expect(object.headers.get('content-type')).toBe('image/jpeg');
    }
    expect((await fetch(`${gw.url}/v1/media/${gw.tenant.id}/${'0'.repeat(64)}.jpg`)).status).toBe(404);
  });

  it('names the variable to fix when the bucket refuses the credentials', async () => {
    const wrong = await startTestGateway({ mediaS3Endpoint: s3Url, ...S3_SETTINGS, mediaS3AccessKeyId: 'NOT-A-KEY' });
    try {
      const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#a84' } })
        .jpeg()
        .toBuffer();
      const refused = await upload(photo, wrong);
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('CL_ERR_UNAVAILABLE');
      expect(refused.body.error?.message).toContain('MEDIA_S3_ACCESS_KEY_ID');
    } finally {
      await wrong.close();
    }
  });

  it('answers 503 naming MEDIA_S3_TIMEOUT_MS when the bucket takes the connection and never answers, and stores nothing', async () => {
    // A store that hangs: it accepts connections and reads what it is sent, and answers nothing.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hung = await startTestGateway({
      mediaS3Endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      ...S3_SETTINGS,
      mediaS3TimeoutMs: 500,
    });
    try {
      const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#48a' } })
        .jpeg()
        .toBuffer();
      const started = Date.now();
      const refused = await upload(photo, hung);
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('CL_ERR_UNAVAILABLE');
      expect(refused.body.error?.message).toContain('MEDIA_S3_TIMEOUT_MS');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      await hung.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('refuses an incomplete S3 configuration at start, naming the missing variable', () => {
    expect(() => loadConfig({ MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000', MEDIA_S3_BUCKET: 'b' })).toThrow(/MEDIA_S3_ACCESS_KEY_ID/);
  });
});
