import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS } from '@civicloop/model';
import { inject, startTestGateway, type TestGateway } from '@civicloop/test-support/gateway-harness.js';
import { Jt808Terminal, frameOf } from '@civicloop/test-support/jt808-terminal.js';
import { tenantKeys } from '../../redis/keys.js';
import { FLAG, FrameSplitter, frame, unframe } from './frame.js';
import { authCodeOf, parseMessage } from './message.js';
import { decodeBatch, decodeLocation } from './location.js';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const vehicle = { id: 'v-1', kind: 'vehicle' as const };

describe('the JT/T 808 codec under random input', () => {
  it('frame() then unframe() gives back any header + body, whatever bytes (flags, escapes) it holds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 300 }), (message) => {
        const framed = frame(message);
        // Only the two ends are flags: escaping left none inside.
        expect(framed.subarray(1, -1).includes(FLAG)).toBe(false);
        const back = unframe(framed.subarray(1, -1));
        expect(back.ok && Buffer.compare(back.message, Buffer.from(message))).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('cuts a stream into its frames wherever TCP splits it, and drops an overlong one without holding it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 12, maxLength: 120 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 7 }),
        (messages, cuts, overlongAt) => {
          const max = 300;
          const overlong = Buffer.concat([Buffer.from([FLAG]), Buffer.alloc(max + 50, 0x31), Buffer.from([FLAG])]);
          const framed = messages.map((m) => frame(m));
          const at = Math.min(overlongAt, framed.length);
          const stream = Buffer.concat([...framed.slice(0, at), overlong, ...framed.slice(at)]);
          const splitter = new FrameSplitter(max);
          const got: Buffer[] = [];
          let tooLong = 0;
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            const result = splitter.push(stream.subarray(offset, offset + size));
            got.push(...result.frames);
            tooLong += result.tooLong;
            offset += size;
          }
          expect(tooLong).toBe(1);
          expect(got.map((g) => unframe(g)).map((u) => (u.ok ? u.message.toString('hex') : u.fault))).toEqual(
            messages.map((m) => Buffer.from(m).toString('hex')),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on random bytes at any stage: unframe, header, location, batch, auth code', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const unframed = unframe(buffer);
        if (!unframed.ok) expect(['bad_escape', 'bad_checksum', 'too_short', 'too_long']).toContain(unframed.fault);
        const parsed = parseMessage(buffer);
        if (parsed.ok) authCodeOf(parsed.message.header, parsed.message.body);
        const location = decodeLocation(buffer, vehicle, NOW, DEFAULT_DECODE_LIMITS);
        if (location.ok) {
          expect(Math.abs(location.record.lat) <= 90 && Math.abs(location.record.lon) <= 180).toBe(true);
          expect(new Date(location.record.fixTime).toISOString()).toMatch(/^\d{4}-/);
        }
        const batch = decodeBatch(buffer);
        if (batch.ok) for (const item of batch.items) decodeLocation(item, vehicle, NOW, DEFAULT_DECODE_LIMITS);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the JT/T 808 listener under fuzzing', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ operatorToken: 'fuzz-operator' }, { telemetry: true });
  });
  afterAll(async () => gw?.close());

  it('random frames from an authenticated terminal and garbage from strangers harm no one: the honest terminal is answered and stored throughout', {
    timeout: 60_000,
  }, async () => {
    const port = gw.telemetry!.jt808Port!;
    const register = async (terminalId: string) => {
      const res = await inject(gw, 'POST', '/v1/devices', {
        auth: gw.tenant.secretKey,
        body: { kind: 'vehicle', name: `Truck ${terminalId}`, protocol: 'jt808', terminalId },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const terminal = new Jt808Terminal(terminalId);
      await terminal.connect(port);
      const registered = await terminal.register();
      expect(await terminal.authenticate(registered.code!)).toBe(0);
      return { deviceId: res.body.device.id as string, terminal };
    };
    const honest = await register('013912340001');
    const fuzzer = await register('013912340002');

    // The messages a terminal sends, and some it never should, with random bodies, lengths and
    // sub-package headers, all correctly framed so they reach the message handlers.
    const ids = [0x0001, 0x0002, 0x0003, 0x0100, 0x0102, 0x0200, 0x0201, 0x0704, 0x0800, 0x0801, 0x0805, 0x0900, 0x8001, 0xffff];
    const messages = fc.sample(
      fc.record({
        id: fc.constantFrom(...ids),
        body: fc.uint8Array({ maxLength: 600 }),
        part: fc.option(fc.record({ total: fc.integer({ min: 0, max: 5 }), index: fc.integer({ min: 0, max: 6 }) }), { freq: 4 }),
      }),
      { numRuns: 400, seed: 808 },
    );
    // Strangers: raw bytes, never authenticated, some of them valid frames of someone else's number.
    const strangers = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<ReturnType<typeof connect>>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    for (const socket of strangers) socket.on('error', () => undefined);
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { numRuns: 100, seed: 1 });

    // Whole seconds apart: JT/T 808 times are BCD seconds, and one fix per device and time is kept.
    let fix = 0;
    const stored: Promise<number>[] = [];
    for (let i = 0; i < messages.length; i++) {
      const { id, body, part } = messages[i]!;
      if (part) {
        // A header that says "part" with whatever numbers, written by hand so invalid ones go out too.
        const { bytes } = fuzzer.terminal.message(id, Buffer.from(body), { total: Math.max(part.total, 1), index: Math.max(part.index, 1) });
        fuzzer.terminal.write(part.total === 0 || part.index === 0 ? rewritePart(bytes, part) : bytes);
      } else fuzzer.terminal.send(id, Buffer.from(body));
      const stranger = strangers[i % strangers.length]!;
      if (!stranger.destroyed)
        stranger.write(
          i % 3 === 0
            ? frameOf(Buffer.concat([Buffer.from([0x02, 0x00, 0x00, 0x00]), Buffer.from('013912340001', 'hex'), Buffer.alloc(2)]))
            : Buffer.from(garbage[i % garbage.length]!),
        );
      if (i % 20 === 0)
        stored.push(honest.terminal.answerTo(honest.terminal.report({ lat: 23.1 + fix++ / 1000, lon: 113.3, time: Date.now() - 60_000 + fix * 1000 })));
    }
    // Every honest report answered "stored", and each is there once.
    expect(await Promise.all(stored)).toEqual(stored.map(() => 0));
    expect(await gw.redis.client.xlen(tenantKeys(gw.tenant.id).track(honest.deviceId))).toBe(stored.length);
    // The strangers' frames never got a position in: the honest terminal's number is not theirs.
    // Counted where the operator sees them: no tenant is known for a stranger.
    const unattributed = (await inject(gw, 'GET', '/v1/telemetry/unattributed', { auth: 'fuzz-operator' })).body;
    expect(unattributed.jt808.unauthenticated).toBeGreaterThan(0);
    expect(unattributed.jt808.badFrames).toBeGreaterThan(0);
    // The fuzzer's own refusals are its tenant's (it is authenticated).
    const counters = (await inject(gw, 'GET', '/v1/telemetry/counters', { auth: gw.tenant.secretKey })).body;
    expect(Object.values(counters.rejected as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect((await inject(gw, 'GET', '/v1/telemetry/unattributed', { auth: gw.tenant.secretKey })).status).toBe(401);
    // And the listener still takes a new terminal.
    const late = await register('013912340003');
    expect(await late.terminal.answerTo(late.terminal.report({ lat: 23.2, lon: 113.2, time: Date.now() - 1000 }))).toBe(0);
    for (const socket of strangers) socket.destroy();
    for (const t of [honest, fuzzer, late]) t.terminal.close();
  });
});

/** The same frame with its sub-package total or index set to 0, which no valid message has. */
function rewritePart(framed: Buffer, part: { total: number; index: number }): Buffer {
  const unframed = unframe(framed.subarray(1, -1));
  if (!unframed.ok) throw new Error('a frame the terminal made does not unframe');
  const message = Buffer.from(unframed.message);
  // 2013 header: id, attributes, terminal (6), serial, then total and index.
  message.writeUInt16BE(part.total, 12);
  message.writeUInt16BE(part.index, 14);
  return frameOf(message);
}
