import sharp from 'sharp';
import { fromWgs84 } from '@civicloop/model/crs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import type { Jt808Terminal, PlatformMessage } from '@civicloop/test-support/jt808-terminal.js';
import { onlineJt808Vehicle } from '@civicloop/test-support/jt808-vehicle.js';

// A sanitation truck's camera: its JT/T 808 terminal uploads photos (0x0801, split into
// sub-packages as a terminal sends one), by itself or when the command centre asks (0x8801).
let gw: TestGateway;
const terminals: Jt808Terminal[] = [];
beforeAll(async () => {
  gw = await startTestGateway({}, { telemetry: true });
});
afterAll(async () => {
  for (const terminal of terminals) terminal.close();
  await gw?.close();
});

let numbers = 13700000000;
const truck = () => onlineJt808Vehicle(gw, String(++numbers), terminals);
const get = async (path: string, auth = gw.tenant.secretKey) => inject(gw, 'GET', path, { auth });
const photosOf = async (deviceId: string) => (await get(`/v1/devices/${deviceId}/photos`)).body.items as Record<string, unknown>[];
/** A camera's photo: a real JPEG, noisy enough to take some thirty sub-packages. */
const cameraJpeg = (seed: number) =>
  sharp({ create: { width: 320, height: 240, channels: 3, background: { r: seed % 255, g: 90, b: 60 }, noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
    .jpeg({ quality: 60 })
    .toBuffer();
const SITE = { lat: 23.1291, lon: 113.2644 };
/** Whole seconds: the fix's time is BCD to the second. */
const secondsAgo = (s: number) => Math.floor(Date.now() / 1000 - s) * 1000;
const answerOf = (terminal: Jt808Terminal, id: number) => terminal.next((m: PlatformMessage) => m.id === 0x8800 && m.body.readUInt32BE(0) === id);

describe("photos from a vehicle's camera", () => {
  it('keeps a photo the terminal uploads, with why and where it was taken, and answers it by its id', async () => {
    const { deviceId, terminal } = await truck();
    const data = await cameraJpeg(1);
    const takenAt = secondsAgo(90);
    const parts = terminal.upload({ id: 4001, event: 2, channel: 1, fix: { ...SITE, time: takenAt }, data });
    expect(parts.length).toBeGreaterThan(5);
    expect((await answerOf(terminal, 4001)).body).toEqual(Buffer.from('00000fa100', 'hex'));
    const [photo] = await photosOf(deviceId);
    expect(photo).toMatchObject({
      id: 4001,
      deviceId,
      channel: 1,
      event: 'robbery_alarm',
      takenAt: new Date(takenAt).toISOString(),
      position: SITE,
      ref: expect.stringMatching(/^media:t_[0-9a-f]{10}\/[0-9a-f]{64}\.jpg$/),
    });
    // Served through its signed links: a JPEG, EXIF-free and re-encoded as an upload is, and its thumbnail.
    for (const link of [photo!.url, photo!.thumbnailUrl] as string[]) {
      const served = await fetch(`${gw.url}${link}`);
      expect(served.status, link).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/jpeg');
      expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).format).toBe('jpeg');
    }
    // Sent again (the answer lost): answered again, listed once.
    terminal.upload({ id: 4001, event: 2, channel: 1, fix: { ...SITE, time: takenAt }, data });
    await answerOf(terminal, 4001);
    expect(await photosOf(deviceId)).toHaveLength(1);
  });

  it('gives where a photo was taken in WGS-84, from a terminal that reports in GCJ-02', async () => {
    const { deviceId, terminal } = await onlineJt808Vehicle(gw, String(++numbers), terminals, { crs: 'gcj02' });
    // A terminal set up for AMap reports the site shifted by some 600 m.
    const shifted = fromWgs84(SITE.lat, SITE.lon, 'gcj02');
    terminal.upload({ id: 6001, event: 1, fix: { ...shifted, time: secondsAgo(30) }, data: await cameraJpeg(4) });
    await answerOf(terminal, 6001);
    const [photo] = (await photosOf(deviceId)) as { position: { lat: number; lon: number } }[];
    expect(photo!.position.lat).toBeCloseTo(SITE.lat, 5);
    expect(photo!.position.lon).toBeCloseTo(SITE.lon, 5);
  });

  it('answers other media without keeping it, and refuses a photo that cannot be read, keeping nothing', async () => {
    const { deviceId, terminal } = await truck();
    const messages = async () => (await get('/v1/telemetry/counters')).body.messages as number;
    const before = await messages();
    // A recording (audio, MP3): answered, so the terminal does not send it again; set aside.
    terminal.upload({ id: 7, type: 1, format: 2, fix: { ...SITE, time: secondsAgo(10) }, data: Buffer.alloc(3000, 0x55) });
    await answerOf(terminal, 7);
    expect((await get(`/v1/devices/${deviceId}/state`)).body.ignored).toMatchObject({ lastReason: 'unused_type' });
    // One message, however many parts it came in.
    expect(await messages()).toBe(before + 1);
    // A JPEG that breaks off: each part answered "message error" (0x8001 result 2), nothing kept.
    const broken = (await cameraJpeg(2)).subarray(0, 2500);
    const serials = terminal.upload({ id: 8, fix: { ...SITE, time: secondsAgo(5) }, data: broken });
    const results = await Promise.all(serials.map((serial) => terminal.answerTo(serial)));
    expect(results).toEqual(serials.map(() => 2));
    expect((await get(`/v1/devices/${deviceId}/state`)).body.refused).toMatchObject({ lastReason: 'schema' });
    // A body too short to be an upload: "message error", counted as one message.
    const counted = await messages();
    expect(await terminal.answerTo(terminal.send(0x0801, Buffer.from('0000000900', 'hex')))).toBe(2);
    expect(await messages()).toBe(counted + 1);
    expect(await photosOf(deviceId)).toEqual([]);
  });

  it('asks the terminal for a photo now (0x8801): confirmed by its answer (0x0805), the photo listed once uploaded', async () => {
    const { deviceId, terminal } = await truck();
    const dispatcher = await gw.tenant.token('d-1', 'dispatcher');
    const asked = await inject(gw, 'POST', `/v1/devices/${deviceId}/photos`, { auth: dispatcher, body: { channel: 2 } });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const command = await terminal.next((m) => m.id === 0x8801);
    expect(command.body[0]).toBe(2);
    expect(command.body.readUInt16BE(1)).toBe(1);
    const waiting = async () => (await get(`/v1/devices/${deviceId}/state`)).body.waiting as { commandId: string; type: string }[];
    expect(await waiting()).toMatchObject([{ commandId: asked.body.commandId, type: 'take_photo' }]);
    // The camera answers with the id of what it took, then uploads it.
    const answer = Buffer.from([command.serial >> 8, command.serial & 0xff, 0, 0, 1, 0, 0, 0x13, 0x88]);
    expect(await terminal.answerTo(terminal.send(0x0805, answer))).toBe(0);
    expect(await waiting()).toEqual([]);
    terminal.upload({ id: 5000, event: 0, channel: 2, fix: { ...SITE, time: secondsAgo(2) }, data: await cameraJpeg(3) });
    await answerOf(terminal, 5000);
    expect(await photosOf(deviceId)).toMatchObject([{ id: 5000, channel: 2, event: 'platform' }]);
  });

  it('asks only JT/T 808 terminals, for managers, and lists photos for staff', async () => {
    const badge = await inject(gw, 'POST', '/v1/devices', { auth: gw.tenant.secretKey, body: { kind: 'badge', name: 'A badge' } });
    const refused = await inject(gw, 'POST', `/v1/devices/${badge.body.device.id}/photos`, { auth: gw.tenant.secretKey, body: {} });
    expect(refused.body).toMatchObject({ error: { code: 'CL_ERR_VALIDATION' } });
    const { deviceId } = await truck();
    const worker = await gw.tenant.token('w-1', 'worker', { unitId: 'sanitation' });
    expect((await inject(gw, 'POST', `/v1/devices/${deviceId}/photos`, { auth: worker, body: {} })).status).toBe(403);
    for (const body of [{ channel: 0 }, { channel: 256 }, { channel: 'front' }, { lens: 1 }]) {
      expect((await inject(gw, 'POST', `/v1/devices/${deviceId}/photos`, { auth: gw.tenant.secretKey, body })).body, JSON.stringify(body)).toMatchObject({
        error: { code: 'CL_ERR_VALIDATION' },
      });
    }
    expect((await get(`/v1/devices/${deviceId}/state`)).body.waiting).toEqual([]);
    expect((await get(`/v1/devices/${deviceId}/photos`, worker)).status).toBe(200);
    expect((await get('/v1/devices/v_none/photos')).body).toMatchObject({ error: { code: 'CL_ERR_NOT_FOUND' } });
    // A disabled terminal is not asked.
    expect((await inject(gw, 'PATCH', `/v1/devices/${deviceId}`, { auth: gw.tenant.secretKey, body: { disabled: true } })).status).toBe(200);
    const disabled = await inject(gw, 'POST', `/v1/devices/${deviceId}/photos`, { auth: gw.tenant.secretKey, body: {} });
    expect(disabled.body).toMatchObject({ error: { code: 'CL_ERR_DEVICE_UNREACHABLE' } });
    expect((await get(`/v1/devices/${deviceId}/state`)).body.waiting).toEqual([]);
  });
});
