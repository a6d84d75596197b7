import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_REPORT, inject, snapshotRedis, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';

let gw: TestGateway;
let jpeg: Buffer;
beforeAll(async () => {
  gw = await startTestGateway();
  jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#37a' } })
    .jpeg()
    .toBuffer();
});
afterAll(async () => gw?.close());

async function upload(secretKey: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), 'photo.jpg');
  const response = await fetch(`${gw.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${secretKey}` }, body: form });
  expect(response.status).toBe(201);
  return ((await response.json()) as { ref: string }).ref;
}

describe('photo references on tickets', () => {
  it('takes a photo this gateway stored for the tenant or an https URL, and refuses anything else before writing', async () => {
    const mine = await upload(gw.tenant.secretKey, jpeg);
    const other = await gw.createTenant('P');
    const theirs = await upload(other.secretKey, await sharp(jpeg).rotate(90).jpeg().toBuffer());
    const neverUploaded = mine.replace(/[0-9a-f]{64}/, 'f'.repeat(64));

    const refused: [string, string][] = [
      ['sim://after/tk_1.jpg', 'not a media reference (media:...) or an https URL'],
      ['http://photos.example.org/a.jpg', 'not a media reference (media:...) or an https URL'],
      ['IMG_0001.jpg', 'not a media reference (media:...) or an https URL'],
      ['https://', 'not a media reference (media:...) or an https URL'],
      [theirs, "another tenant's photo"],
      [neverUploaded, 'no such stored photo'],
    ];
    for (const [ref, problem] of refused) {
      const before = await snapshotRedis(gw.redis.client);
      const res = await inject(gw, 'POST', '/v1/tickets', { auth: gw.tenant.secretKey, body: { ...BIN_REPORT, photos: [{ ref: mine }, { ref }] } });
      expect(res.status, ref).toBe(422);
      expect(res.body.error.code).toBe('CL_ERR_PHOTO_REF');
      expect(res.body.error.message).toContain(`photos/1/ref ${JSON.stringify(ref)}: ${problem}`);
      expect(res.body.error.details).toEqual([{ path: '/photos/1/ref', ref, problem }]);
      expect(await snapshotRedis(gw.redis.client)).toEqual(before);
    }

    const created = await inject(gw, 'POST', '/v1/tickets', {
      auth: gw.tenant.secretKey,
      body: { ...BIN_REPORT, photos: [{ ref: mine }, { ref: 'https://photos.example.org/bin.jpg' }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.photos.map((p: { ref: string }) => p.ref)).toEqual([mine, 'https://photos.example.org/bin.jpg']);

    // The after-photo of a resolve is held to the same rule; a refused resolve leaves the ticket as it was.
    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    await inject(gw, 'POST', `/v1/tickets/${created.body.id}/dispatch`, { auth: gw.tenant.secretKey, body: { unitId: 'sanitation', assigneeId: 'w-1' } });
    await inject(gw, 'POST', `/v1/tickets/${created.body.id}/accept`, { auth: worker, body: {} });
    await inject(gw, 'POST', `/v1/tickets/${created.body.id}/arrive`, { auth: worker, body: {} });
    const bad = await inject(gw, 'POST', `/v1/tickets/${created.body.id}/resolve`, { auth: worker, body: { photos: [{ ref: 'sim://after/x.jpg' }] } });
    expect(bad.body.error).toMatchObject({ code: 'CL_ERR_PHOTO_REF', details: [{ path: '/photos/0/ref' }] });
    expect((await inject(gw, 'GET', `/v1/tickets/${created.body.id}`, { auth: gw.tenant.secretKey })).body).toMatchObject({ status: 'on_site', version: 4 });
    const good = await inject(gw, 'POST', `/v1/tickets/${created.body.id}/resolve`, { auth: worker, body: { photos: [{ ref: mine }] } });
    expect(good.body.ticket).toMatchObject({ status: 'resolved', afterPhotos: [{ ref: mine }] });
  });
});
