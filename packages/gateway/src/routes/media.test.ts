import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let photo: Buffer;
beforeAll(async () => {
  gw = await startTestGateway();
  // A real JPEG carrying EXIF with a camera make and GPS position, as phones write them.
  photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 40, g: 120, b: 60 } } })
    .jpeg()
    .withExif({ IFD0: { Make: 'CivicLoopTestCam', Model: 'Secret model' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '23/1 7/1 45/1' } })
    .toBuffer();
});
afterAll(async () => gw?.close());

const mediaDir = () => path.join(gw.config.dataDir, 'media');
const listMedia = () => {
  try {
    return readdirSync(mediaDir(), { recursive: true }).map(String).sort();
  } catch {
    return [];
  }
};

async function upload(bytes: Uint8Array, filename: string, field = 'file', auth: Record<string, string> = { authorization: `Bearer ${gw.tenant.secretKey}` }) {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)]), filename);
  const response = await fetch(`${gw.url}/v1/media`, { method: 'POST', headers: auth, body: form });
  return { status: response.status, body: (await response.json()) as any };
}

describe('POST /v1/media', () => {
  it('stores a photo with EXIF stripped, a thumbnail, under its content hash', async () => {
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const res = await upload(photo, 'IMG_0001.jpg', 'file', { 'x-civicloop-key': gw.tenant.publishableKey });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ contentType: 'image/jpeg', width: 1200, height: 900 });
    expect(res.body.ref).toMatch(new RegExp(`^media:${gw.tenant.id}/[0-9a-f]{64}\\.jpg$`));

    const stored = Buffer.from(await (await fetch(gw.url + res.body.url)).arrayBuffer());
    const meta = await sharp(stored).metadata();
    expect(meta.exif).toBeUndefined();
    expect(stored.includes(Buffer.from('CivicLoopTestCam'))).toBe(false);
    const thumb = await sharp(Buffer.from(await (await fetch(gw.url + res.body.thumbnailUrl)).arrayBuffer())).metadata();
    expect(Math.max(thumb.width!, thumb.height!)).toBe(320);

    const again = await upload(photo, 'copy.jpg');
    expect(again.body.ref).toBe(res.body.ref);
    expect(listMedia().filter((f) => f.endsWith('.jpg'))).toHaveLength(2);

    const ticket = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, photos: [{ ref: res.body.ref }] } });
    expect(ticket.body.photos).toEqual([{ ref: res.body.ref, url: expect.stringMatching(/^\/v1\/media\/.+\?exp=\d+&sig=/) }]);
  });

  it("turns a phone's HEIC photo into a JPEG without its EXIF; a cut-off HEIC is refused", async () => {
    // Made once with Debian's heif-enc (libheif, x265) from a JPEG carrying the same EXIF as above.
    const heic = readFileSync(new URL('../media/fixtures/phone-photo.heic', import.meta.url));
    expect(heic.includes(Buffer.from('CivicLoopTestCam'))).toBe(true);
    const res = await upload(heic, 'IMG_0002.HEIC');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ contentType: 'image/jpeg', width: 1024, height: 768 });
    const stored = Buffer.from(await (await fetch(gw.url + res.body.url)).arrayBuffer());
    expect((await sharp(stored).metadata()).exif).toBeUndefined();
    expect(stored.includes(Buffer.from('CivicLoopTestCam'))).toBe(false);
    const cut = await upload(heic.subarray(0, Math.floor(heic.length * 0.6)), 'cut.heic');
    expect([cut.status, cut.body.error.code]).toEqual([422, 'CL_ERR_MEDIA_CORRUPT']);
  });

  it('accepts PNG and WebP by their bytes', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: '#ff000080' } })
      .png()
      .toBuffer();
    const webp = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#0000ff' } })
      .webp()
      .toBuffer();
    expect((await upload(png, 'no-extension')).body.contentType).toBe('image/png');
    expect((await upload(webp, 'photo.jpg')).body.contentType).toBe('image/webp');
  });

  it('refuses a text file named .jpg, a truncated JPEG, a 20 MB image and a missing file, storing nothing', async () => {
    const before = listMedia();
    const text = await upload(Buffer.from('this is not a photo at all, just text'), 'evidence.jpg');
    expect([text.status, text.body.error.code]).toEqual([415, 'CL_ERR_MEDIA_TYPE']);
    const truncated = await upload(photo.subarray(0, Math.floor(photo.length / 2)), 'cut.jpg');
    expect([truncated.status, truncated.body.error.code]).toEqual([422, 'CL_ERR_MEDIA_CORRUPT']);
    const huge = Buffer.concat([photo, Buffer.alloc(20 * 1024 * 1024)]);
    const tooBig = await upload(huge, 'huge.jpg');
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'CL_ERR_PAYLOAD_TOO_LARGE']);
    const wrongField = await upload(photo, 'a.jpg', 'image');
    expect(wrongField.body.error.code).toBe('CL_ERR_MEDIA_MISSING');
    const notMultipart = await inject(gw, 'POST', '/v1/media', { auth: gw.tenant.secretKey, body: { file: 'x' } });
    expect(notMultipart.body.error.code).toBe('CL_ERR_MEDIA_MISSING');
    expect(listMedia()).toEqual(before);
  });

  it('lets many uploads of the same photo at the same moment all succeed, storing it once', async () => {
    const same = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .jpeg()
      .toBuffer();
    const results = await Promise.all(Array.from({ length: 12 }, () => upload(same, 'same.jpg')));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(results.map((r) => r.body.ref)).size).toBe(1);
    const name = results[0]!.body.ref.split('/').pop() as string;
    expect(listMedia().filter((f) => f.endsWith(name))).toHaveLength(1);
    expect(listMedia().filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("serves a private ticket's photo only with credentials: its signed link, the secret key or a staff token", async () => {
    const own = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 9, g: 9, b: 90 } } })
      .jpeg()
      .toBuffer();
    const uploaded = (await upload(own, 'private.jpg')).body;
    const key = uploaded.ref.slice('media:'.length);
    const plain = `${gw.url}/v1/media/${key}`;
    const status = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;
    const personal = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, category: 'other.personal', photos: [{ ref: uploaded.ref }] },
    });
    const signed = personal.body.photos[0].url as string;
    expect(signed).toMatch(/\?exp=\d+&sig=/);
    // Whether or not the tenant publishes, a private ticket's photo needs credentials.
    for (const publicReads of [false, true]) {
      await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads });
      expect(await status(plain), `publicReads ${publicReads}`).toBe(404);
    }
    const bySignedLink = await fetch(gw.url + signed);
    expect(bySignedLink.status).toBe(200);
    expect(bySignedLink.headers.get('cache-control')).toBe('private, max-age=3600');
    // Its first character changed (to one it is not: a signature starting with 'A' stayed valid once in 64 runs).
    const tampered = signed.replace(/sig=(.)/, (_all, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(signed);
    expect(await status(gw.url + tampered)).toBe(404);
    expect(await status(`${plain}?exp=${Math.floor(Date.now() / 1000) - 10}&sig=${new URL(gw.url + signed).searchParams.get('sig')}`)).toBe(404);
    expect(await status(plain, { authorization: `Bearer ${gw.tenant.secretKey}` })).toBe(200);
    expect(await status(plain, { authorization: `Bearer ${await gw.tenant.token('d-1', 'dispatcher')}` })).toBe(200);
    expect(await status(plain, { authorization: `Bearer ${await gw.tenant.token('someone', 'citizen')}`, 'x-civicloop-key': gw.tenant.publishableKey })).toBe(
      404,
    );
    const other = await gw.createTenant('MED');
    expect(await status(plain, { authorization: `Bearer ${other.secretKey}` })).toBe(404);
    // The reporter reads the ticket and gets a link of their own.
    const history = await inject(gw, 'GET', `/v1/tickets/${personal.body.id}`, { auth: gw.tenant.secretKey });
    expect(await status(gw.url + history.body.photos[0].url)).toBe(200);

    // The same photo on a public-category ticket of a publishing tenant is public.
    await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, photos: [{ ref: uploaded.ref }] } });
    const published = await fetch(plain);
    expect(published.status).toBe(200);
    // Anyone may cache it, briefly: the ticket can be made private later.
    expect(published.headers.get('cache-control')).toBe('public, max-age=300');
    await gw.services.tenants.updatePolicy(gw.tenant.id, { publicReads: false });
    expect(await status(plain)).toBe(404);
  });

  it('makes path traversal impossible', async () => {
    for (const attempt of [
      '/v1/media/..%2F..%2Fetc/passwd',
      '/v1/media/t_0000000000/..%2F..%2F..%2Fetc%2Fpasswd',
      `/v1/media/${gw.tenant.id}/..%2Fmaster.key`,
      '/v1/media/t_0000000000/%2e%2e',
    ]) {
      const res = await fetch(gw.url + attempt);
      expect(res.status, attempt).toBe(404);
      expect(await res.text()).not.toContain('root:');
    }
  });

  it('needs a key to upload', async () => {
    const res = await upload(photo, 'a.jpg', 'file', {});
    expect(res.body.error.code).toBe('CL_ERR_UNAUTHENTICATED');
  });
});
