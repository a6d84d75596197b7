import { once } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { GuardedConnection, PendingConnections, type GuardLimits, type GuardViolation } from './connection-guard.js';
import { OVERSIZED_MARKER } from './authorize-publish.js';

const LIMITS: GuardLimits = { preAuthMaxBytes: 4096, maxPayloadBytes: 1024, maxControlBytes: 2048, maxTopicBytes: 256 };

const connect = mqttPacket.generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'dev-1',
  keepalive: 30,
  username: 'dev-1',
  password: Buffer.from('cl_dk_secret'),
});
const publish = (payload: Buffer, qos: 0 | 1 = 1, messageId = 7) =>
  mqttPacket.generate({ cmd: 'publish', topic: 'civicloop/t_1/badges/b-1/position', payload, qos, messageId, retain: false, dup: false });
const pingreq = mqttPacket.generate({ cmd: 'pingreq' });

/**
 * Feeds `bytes` to a guard in the given chunk sizes; returns what came out and any violation.
 * With `authenticated`, the CONNECT goes first on its own and the broker accepts it (as it does
 * before it answers CONNACK) before the rest arrives.
 */
async function run(bytes: Buffer, chunks: number[], options: { authenticated?: boolean } = {}) {
  const inner = new PassThrough();
  const violations: GuardViolation[] = [];
  const guard = new GuardedConnection(inner, '127.0.0.1', LIMITS, (v) => violations.push(v));
  const out: Buffer[] = [];
  guard.on('data', (chunk: Buffer) => out.push(chunk));
  const closed = new Promise<void>((resolve) => guard.once('close', () => resolve()));
  let offset = 0;
  if (options.authenticated) {
    inner.write(connect);
    await new Promise((r) => setImmediate(r));
    guard.markAuthenticated();
    offset = connect.length;
  }
  let i = 0;
  while (offset < bytes.length && !guard.destroyed) {
    const size = Math.max(1, chunks[i++ % chunks.length]!);
    inner.write(bytes.subarray(offset, offset + size));
    offset += size;
    await new Promise((r) => setImmediate(r));
  }
  inner.end();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 50))]);
  return { out: Buffer.concat(out), violations, destroyed: guard.destroyed };
}

describe('GuardedConnection', () => {
  it('writes what the broker sends straight to the client stream, keeping its backpressure, and nothing once closed', async () => {
    const written: Buffer[] = [];
    let release: (() => void) | undefined;
    const inner = new Duplex({
      read() {},
      writableHighWaterMark: 8,
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        release = () => callback();
      },
    });
    const guard = new GuardedConnection(inner, '127.0.0.1', LIMITS, () => undefined);
    // Past the client stream's high-water mark: the broker is told to wait, and hears 'drain' here.
    expect(guard.write(Buffer.alloc(16, 1))).toBe(false);
    expect(written).toEqual([Buffer.alloc(16, 1)]);
    const drained = once(guard, 'drain');
    release!();
    await drained;
    // mqtt-packet corks around each packet: the cork is the client stream's own.
    guard.cork();
    expect(inner.writableCorked).toBe(1);
    guard.write(Buffer.from('ab'));
    expect(written).toHaveLength(1);
    guard.uncork();
    expect(inner.writableCorked).toBe(0);
    expect(written).toHaveLength(2);
    release!();
    guard.destroy();
    const refused = await new Promise<Error | null | undefined>((resolve) =>
      guard.write(Buffer.from('late'), (error: Error | null | undefined) => resolve(error)),
    );
    expect((refused as NodeJS.ErrnoException | undefined)?.code).toBe('ERR_STREAM_DESTROYED');
    expect(written).toHaveLength(2);
  });

  it('passes a well-behaved client through byte for byte, however the bytes are chunked', async () => {
    const stream = Buffer.concat([
      connect,
      publish(Buffer.from('{"ts":1,"lat":23,"lon":113}')),
      pingreq,
      publish(Buffer.alloc(1000, 0x41), 0),
      publish(Buffer.alloc(0)),
    ]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), async (chunks) => {
        const { out, violations } = await run(stream, chunks, { authenticated: true });
        expect(violations).toEqual([]);
        expect(out.equals(stream)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('replaces the body of an oversized PUBLISH with a marker, keeping topic, QoS and packet id, and goes on', async () => {
    const big = publish(Buffer.alloc(200_000, 0x7b), 1, 4242);
    const after = publish(Buffer.from('{"ok":true}'), 1, 4243);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 5 }), async (chunks) => {
        const { out, violations } = await run(Buffer.concat([connect, big, after]), chunks, { authenticated: true });
        expect(violations).toEqual([]);
        const packets: mqttPacket.Packet[] = [];
        const parser = mqttPacket.parser();
        parser.on('packet', (p) => packets.push(p));
        parser.parse(out);
        expect(packets.map((p) => p.cmd)).toEqual(['connect', 'publish', 'publish']);
        const truncated = packets[1] as mqttPacket.IPublishPacket;
        expect(truncated).toMatchObject({ topic: 'civicloop/t_1/badges/b-1/position', qos: 1, messageId: 4242 });
        expect(Buffer.from(truncated.payload as Buffer).equals(Buffer.concat([OVERSIZED_MARKER, Buffer.from('200000')]))).toBe(true);
        expect((packets[2] as mqttPacket.IPublishPacket).messageId).toBe(4243);
        // Nothing near the announced size was held: the output is the small packets only.
        expect(out.length).toBeLessThan(1000);
      }),
      { numRuns: 40 },
    );
  });

  it('closes a client that announces more than the pre-authentication budget, at the header', async () => {
    // A CONNECT announcing 250 MB: four bytes are enough to refuse it.
    const announce = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x77]);
    const { out, violations, destroyed } = await run(Buffer.concat([announce, Buffer.alloc(64 * 1024)]), [5, 1024]);
    expect(violations).toEqual(['too_large']);
    expect(destroyed).toBe(true);
    expect(out.length).toBe(0);
  });

  it('closes a client that streams past the budget in small packets before authenticating', async () => {
    const pings = Buffer.concat(Array.from({ length: 3000 }, () => pingreq));
    const { violations, destroyed } = await run(Buffer.concat([connect, pings]), [512]);
    expect(violations).toEqual(['too_large']);
    expect(destroyed).toBe(true);
  });

  it('wants CONNECT first, and refuses malformed lengths and oversized control packets', async () => {
    expect((await run(Buffer.concat([publish(Buffer.from('x')), connect]), [100])).violations).toEqual(['not_connect_first']);
    expect((await run(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]), [1])).violations).toEqual(['malformed']);
    const bigSubscribe = mqttPacket.generate({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: Array.from({ length: 200 }, (_, i) => ({ topic: `civicloop/t_1/badges/b-1/${'x'.repeat(20)}${i}`, qos: 1 as const })),
    });
    expect((await run(Buffer.concat([connect, bigSubscribe]), [4096], { authenticated: true })).violations).toEqual(['too_large']);
  });
});

describe('PendingConnections', () => {
  it('caps connections per address until they authenticate or close', () => {
    const pending = new PendingConnections(2);
    expect([pending.admit('a'), pending.admit('a'), pending.admit('a'), pending.admit('b')]).toEqual([true, true, false, true]);
    pending.release('a');
    expect(pending.admit('a')).toBe(true);
    expect(pending.pending('a')).toBe(2);
    expect(new PendingConnections(0).admit('a')).toBe(true);
  });
});
