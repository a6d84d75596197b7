import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CivicLoop, signToken } from './index.js';
import { startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { wxRuntime } from '@civicloop/test-support/wx-runtime.js';

// @civicloop/sdk/wechat as a mini-program runs it: the built package bundled as a mini-program's
// npm build does, evaluated in a JavaScript context that has what the mini-program runtime has
// (the language itself, timers, console and wx) and none of fetch, URL, FormData, AbortController,
// TextDecoder, crypto or streams; wx.request and wx.uploadFile as WeChat documents them, over
// real HTTP to a real gateway.
const dist = fileURLToPath(new URL('../dist/wechat.js', import.meta.url));

let gw: TestGateway;
let dir: string;
let sdkSource: string;
beforeAll(async () => {
  gw = await startTestGateway();
  dir = mkdtempSync(path.join(tmpdir(), 'civicloop-wechat-'));
  const bundled = await build({
    entryPoints: [dist],
    bundle: true,
    format: 'iife',
    globalName: 'civicloopSdk',
    platform: 'neutral',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  sdkSource = bundled.outputFiles[0]!.text;
});
afterAll(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('@civicloop/sdk/wechat in a mini-program-like runtime', () => {
  it('has none of the web APIs the SDK otherwise uses, and still reports with a photo, follows its ticket live and reads errors', {
    timeout: 60_000,
  }, async () => {
    const { wx, calls } = wxRuntime();
    const server = new CivicLoop({ baseUrl: gw.url, apiKey: gw.tenant.secretKey });
    const photoPath = path.join(dir, 'tmp_photo.jpg');
    writeFileSync(
      photoPath,
      await sharp({ create: { width: 80, height: 60, channels: 3, background: '#2a6' } })
        .jpeg()
        .toBuffer(),
    );
    const token = await signToken({ secretKey: gw.tenant.secretKey, sub: 'wx-openid-o6_bmjrPTlm6_2sgVt7hMZOPfL2M', role: 'citizen' });
    const context = vm.createContext({
      wx,
      console,
      setTimeout,
      clearTimeout,
      dispatch: (id: string) => server.tickets.dispatch(id, { unitId: 'sanitation', note: '请尽快处理垃圾桶 🗑️' }),
    });
    expect(
      vm.runInContext(
        '[typeof fetch, typeof URL, typeof FormData, typeof AbortController, typeof ' +
          'AbortSignal, typeof TextDecoder, typeof crypto, typeof ReadableStream, typeof Blob]',
        context,
      ),
    ).toEqual(Array(9).fill('undefined'));
    vm.runInContext(sdkSource, context);
    const run = vm.runInContext(
      `(async ({ baseUrl, publishableKey, token, photoPath }) => {
        const { WechatCivicLoop } = civicloopSdk;
        const resident = new WechatCivicLoop(wx, { baseUrl, apiKey: publishableKey, token: () => token });
        const photo = await resident.uploadPhoto(photoPath);
        const ticket = await resident.tickets.create({
          category: 'sanitation.bin_overflow',
          description: '小区门口垃圾桶满了',
          location: { lat: 23.126423, lon: 113.26973, crs: 'gcj02' },
          photos: [{ ref: photo.ref }],
        });
        const lastEventId = await resident.eventPosition();
        await dispatch(ticket.id);
        const stream = resident.subscribe({ lastEventId });
        const next = await stream[Symbol.asyncIterator]().next();
        stream.close();
        const mine = await resident.tickets.list({ limit: 10 });
        let refused;
        try {
          await resident.tickets.create({ category: 'no.such', description: 'x', location: { lat: 23.1, lon: 113.3 } });
        } catch (error) {
          refused = { kind: error.constructor.name, code: error.code, status: error.status };
        }
        // A refused stream: its JSON error arrives in chunks and is read as text from them.
        let streamRefused;
        try {
          await new WechatCivicLoop(wx, { baseUrl, apiKey: publishableKey, token: 'not.a.token' }).subscribe()[Symbol.asyncIterator]().next();
        } catch (error) {
          streamRefused = { kind: error.constructor.name, code: error.code };
        }
        let patched;
        try {
          await resident.units.update('sanitation', { name: 'x' });
        } catch (error) {
          patched = { kind: error.constructor.name, code: error.code };
        }
        return {
          streamRefused,
          patched,
          photo: { ref: photo.ref.startsWith('media:'), type: photo.contentType },
          ticket: { status: ticket.status, crs: ticket.reportedLocation.crs, photos: ticket.photos.length },
          event: { type: next.value.event.type, number: next.value.ticketNumber === ticket.number, note: next.value.event.note },
          mine: mine.items.map((t) => t.number).includes(ticket.number),
          refused,
        };
      })`,
      context,
    ) as (args: Record<string, string>) => Promise<unknown>;
    const result = await run({ baseUrl: gw.url, publishableKey: gw.tenant.publishableKey, token, photoPath });
    expect(result).toEqual({
      // wx.request has no PATCH: refused at once, nothing sent.
      patched: { kind: 'InvalidRequestError', code: 'CL_ERR_RUNTIME_UNSUPPORTED' },
      streamRefused: { kind: 'AuthenticationError', code: expect.stringMatching(/^CL_ERR_TOKEN_/) },
      photo: { ref: true, type: 'image/jpeg' },
      ticket: { status: 'reported', crs: 'gcj02', photos: 1 },
      event: { type: 'dispatched', number: true, note: '请尽快处理垃圾桶 🗑️' },
      mine: true,
      refused: { kind: 'InvalidRequestError', code: 'CL_ERR_UNKNOWN_CATEGORY', status: 422 },
    });
    // Everything went through wx: the upload by wx.uploadFile, the stream chunked, every POST with
    // an idempotency key made without crypto.randomUUID.
    expect(calls.filter((c) => c.api === 'uploadFile').map((c) => c.url)).toEqual([`${gw.url}/v1/media`]);
    expect(calls.find((c) => c.url.endsWith('/v1/events'))).toMatchObject({ enableChunked: true, header: { accept: 'text/event-stream' } });
    expect(calls.some((c) => c.url.includes('/v1/units'))).toBe(false);
    const posts = calls.filter((c) => c.api === 'request' && c.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(2);
    // (The context has no crypto at all, checked above: the UUIDs come from the Math.random fallback.)
    for (const post of posts) expect(post.header['idempotency-key']).toMatch(/^sdk-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(posts.map((p) => p.header['idempotency-key'])).size).toBe(posts.length);
  });
});
