import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@civicloop/gateway';
import { startTestRedis, type TestRedis } from '@civicloop/test-support/gateway-harness.js';
import { startGatewayProcess } from '@civicloop/test-support/gateway-process.js';

/**
 * A gateway whose photo disk fills up: its MEDIA_DIR is a 1 MB tmpfs, mounted in a mount
 * namespace of the gateway's own (`unshare`, as any user: the mount goes away with the process).
 * The test reads that disk through /proc/<pid>/root, the gateway's view of the file system.
 */
const DISK_BYTES = 1024 * 1024;
let redis: TestRedis;
let gateway: ChildProcess;
let url: string;
let mediaDir: string;
let secretKey: string;
const parent = mkdtempSync(path.join(tmpdir(), 'civicloop-disk-'));

beforeAll(async () => {
  redis = await startTestRedis();
  mediaDir = path.join(parent, 'media');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const mountAndRun = `mkdir -p "$MEDIA_DIR" && mount -t tmpfs -o size=${DISK_BYTES} civicloop-photos "$MEDIA_DIR" && exec "$0" "$@"`;
  gateway = await startGatewayProcess(
    {
      REDIS_URL: redis.url,
      PORT: String(port),
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: String(await freePort()),
      JT808_PORT: 'false',
      LOG_LEVEL: 'silent',
      DATA_DIR: path.join(parent, 'data'),
      MEDIA_DIR: mediaDir,
      CIVICLOOP_OPERATOR_TOKEN: 'disk-operator',
      CIVICLOOP_MASTER_KEY: 'disk-master',
    },
    ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', mountAndRun],
  );
  const tenant = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: 'Bearer disk-operator', 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'DISK', name: 'Full disk' }),
  });
  secretKey = ((await tenant.json()) as { secretKey: string }).secretKey;
});
afterAll(async () => {
  gateway?.kill('SIGKILL');
  await redis?.stop();
  rmSync(parent, { recursive: true, force: true });
});

/** A photo of noise: it compresses badly, so a few fill the disk. */
const noisePhoto = (width = 700, height = 500) =>
  sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();

async function upload(photo: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'noise.jpg');
  const response = await fetch(`${url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${secretKey}` }, body: form });
  return { status: response.status, body: (await response.json()) as { ref?: string; error?: { code: string; message: string } } };
}

/** The files on the gateway's photo disk, as the gateway sees them. */
function filesOnDisk(): { name: string; size: number }[] {
  const root = `/proc/${gateway.pid}/root${mediaDir}`;
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { name: path.relative(root, file), size: statSync(file).size };
    });
}

describe('photos on a disk that fills up', () => {
  it('answers 503 CL_ERR_UNAVAILABLE naming MEDIA_DIR, leaves no part-written file, and stores again once space is freed', async () => {
    const stored: string[] = [];
    let refused: Awaited<ReturnType<typeof upload>> | undefined;
    let refusedPhoto: Buffer | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      const photo = await noisePhoto();
      const answer = await upload(photo);
      if (answer.status === 201) stored.push(answer.body.ref!);
      else [refused, refusedPhoto] = [answer, photo];
    }
    expect(stored.length, 'some photos fit before the disk is full').toBeGreaterThan(0);
    expect(refused?.status).toBe(503);
    expect(refused?.body.error?.code).toBe('CL_ERR_UNAVAILABLE');
    expect(refused?.body.error?.message).toContain('its disk is full');
    expect(refused?.body.error?.message).toContain('MEDIA_DIR');

    // Only whole photos and thumbnails are left: the write that failed took its part away.
    const files = filesOnDisk();
    expect(files.filter((file) => file.name.endsWith('.tmp'))).toEqual([]);
    for (const ref of stored) {
      const key = ref.slice('media:'.length);
      expect(files.map((file) => file.name)).toContain(key);
      expect(files.map((file) => file.name)).toContain(key.replace(/\.jpg$/, '.thumb.jpg'));
    }
    // Every stored photo reads back whole.
    for (const ref of stored) {
      const served = await fetch(`${url}/v1/media/${ref.slice('media:'.length)}`, { headers: { authorization: `Bearer ${secretKey}` } });
      expect(served.status).toBe(200);
      await expect(sharp(Buffer.from(await served.arrayBuffer())).metadata()).resolves.toMatchObject({ format: 'jpeg' });
    }

    // The operator frees space: the same upload now succeeds.
    const root = `/proc/${gateway.pid}/root${mediaDir}`;
    for (const ref of stored.slice(0, 2)) unlinkSync(path.join(root, ref.slice('media:'.length)));
    const again = await upload(refusedPhoto!);
    expect(again.status).toBe(201);
    expect(filesOnDisk().map((file) => file.name)).toContain(again.body.ref!.slice('media:'.length));
  });
});
