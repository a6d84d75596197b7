import { describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS } from '@civicloop/model';
import { FrameSplitter, frame, unframe } from './frame.js';
import { decodeBatch, decodeLocation } from './location.js';
import { parseMessage } from './message.js';

/**
 * Frames captured from real terminals, as published in Traccar's JT/T 808 decoder tests
 * (traccar/traccar, src/test/java/org/traccar/protocol/Jt808ProtocolDecoderTest.java). The
 * expected values are read off the standard by hand, not from our decoder.
 */
const hex = (s: string) => Buffer.from(s, 'hex');
const device = { id: 'v-captured', kind: 'vehicle' as const };
// These fixes are years old: decode them as the moment they were sent.
const limits = { ...DEFAULT_DECODE_LIMITS, maxAgeMs: Number.MAX_SAFE_INTEGER };

function messageOf(frameHex: string) {
  const bytes = hex(frameHex);
  expect(bytes[0]).toBe(0x7e);
  expect(bytes[bytes.length - 1]).toBe(0x7e);
  const unframed = unframe(bytes.subarray(1, -1));
  if (!unframed.ok) throw new Error(unframed.fault);
  const parsed = parseMessage(unframed.message);
  if (!parsed.ok) throw new Error(parsed.fault);
  return parsed.message;
}

describe('JT/T 808 frames captured from real terminals', () => {
  it('a 2013 location report (0x0200): place, course, GMT+8 time, mileage, signal and satellites', () => {
    const { header, body } = messageOf(
      '7e02000033017051564189000c00000000000c00020158ff7206cd1f4c000000000123201122115639010400000000300143310114930100e3060064019a0000557e',
    );
    expect(header).toMatchObject({ id: 0x0200, version: 2013, terminal: '017051564189', serial: 12, encryption: 0 });
    const decoded = decodeLocation(body, device, Date.parse('2020-11-22T04:00:00Z'), limits);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.record).toMatchObject({ lat: 22.609778, lon: 114.106188, altitude: 0, speedKmh: 0, course: 291, valid: true, alarms: [], source: 'jt808' });
    // 20-11-22 11:56:39 on the terminal's clock is GMT+8.
    expect(new Date(decoded.record.fixTime).toISOString()).toBe('2020-11-22T03:56:39.000Z');
    // Vendor items (0x93, 0xE3) are passed over.
    expect(decoded.record.extra).toEqual({ acc: 0, mileageKm: 0, signal: 67, satellites: 20 });
  });

  it('refuses a published frame whose checksum does not add up (Traccar, which does not check, decodes it)', () => {
    const bytes = hex('7E02000032013511221122000700000000000C000301578CC006CA3A5C00470000000014072317201501040000000030011631010BD07E');
    expect(unframe(bytes.subarray(1, -1))).toEqual({ ok: false, fault: 'bad_checksum' });
  });

  it('a 2013 blind-area batch (0x0704) of eight fixes', () => {
    const { header, body } = messageOf(
      '7E0704014301356777777707F5000801002600000000000000030159741206CBFD5001720000000116052709062401040000001D0302000000260000' +
        '0000000000030159746606CBFD50016B0000000116052709065301040000001D0302000000260000000000000003015975E406CBFE58013F00000001' +
        '16052709072701040000001D0302000000260000000000000003015976DE06CBFF10012E0000000116052709075601040000001D0302000000260000' +
        '000000000003015976BC06CBFED0012D0000000116052709083001040000001D0302000000260000000000000003015976FE06CBFEC0010800000001' +
        '16052709090001040000001D0302000000260000000000000003015976FE06CBFE7800FC0000000116052709093301040000001D0302000000260000' +
        '000000000003015977A606CBFF3001080000000116052709100201040000001D030200001F7E',
    );
    expect(header).toMatchObject({ id: 0x0704, terminal: '013567777777', serial: 0x07f5 });
    const batch = decodeBatch(body);
    if (!batch.ok) throw new Error(batch.detail);
    expect(batch.items).toHaveLength(8);
    expect(batch.blindArea).toBe(true);
    const first = decodeLocation(batch.items[0]!, device, Date.parse('2016-05-27T02:00:00Z'), limits);
    if (!first.ok) throw new Error(first.detail);
    expect(first.record).toMatchObject({ lat: 22.639634, lon: 114.031952, altitude: 370, course: 1 });
    expect(new Date(first.record.fixTime).toISOString()).toBe('2016-05-27T01:06:24.000Z');
    expect(first.record.extra).toMatchObject({ mileageKm: 2.9 });
  });

  it('a 2019 batch (version flag, 10-byte terminal number): a southern point and 14 satellites', () => {
    const { header, body } = messageOf(
      '7e0704402d0100000866496077582164881d0001000028000000000000000701a00192091f2a4700160000000226050916422701040000258230010031010e507e',
    );
    expect(header).toMatchObject({ id: 0x0704, version: 2019, protocolVersion: 1, terminal: '00000866496077582164', serial: 0x881d });
    const batch = decodeBatch(body);
    if (!batch.ok) throw new Error(batch.detail);
    const fix = decodeLocation(batch.items[0]!, device, Date.parse('2026-05-09T08:43:00Z'), limits);
    if (!fix.ok) throw new Error(fix.detail);
    expect(fix.record).toMatchObject({ lat: -27.263378, lon: 153.037383, altitude: 22, course: 2, valid: true });
    expect(fix.record.extra).toMatchObject({ mileageKm: 960.2, signal: 0, satellites: 14 });
    expect(new Date(fix.record.fixTime).toISOString()).toBe('2026-05-09T08:42:27.000Z');
  });

  it('a 2019 registration (0x0100) and a 2013 authentication (0x0102)', () => {
    const registration = messageOf(
      '7e0100405c010000086649607758216452180000000000000000000000000000004d4433303000000000000000000000000000000000000000000000' +
        '00000038363634393630373735383231363400000000000000000000000000000004000000000000000000000000000000007a7e',
    );
    expect(registration.header).toMatchObject({ id: 0x0100, version: 2019, terminal: '00000866496077582164', serial: 0x5218 });
    const auth = messageOf('7E0102000E013511221122000661757468656E7469636174696F6E3F7E');
    expect(auth.header).toMatchObject({ id: 0x0102, version: 2013, terminal: '013511221122' });
    expect(auth.body.toString('latin1')).toBe('authentication');
  });

  it('refuses a frame whose checksum or escape is wrong, and cuts a stream at its flags', () => {
    const good = hex('7E0102000E013511221122000661757468656E7469636174696F6E3F7E');
    const badChecksum = Buffer.from(good);
    badChecksum[badChecksum.length - 2] = badChecksum[badChecksum.length - 2]! ^ 0xff;
    expect(unframe(badChecksum.subarray(1, -1))).toEqual({ ok: false, fault: 'bad_checksum' });
    expect(unframe(Buffer.from([0x7d, 0x05, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]))).toEqual({ ok: false, fault: 'bad_escape' });
    // Our own framing escapes 0x7e and 0x7d and round-trips.
    const tricky = Buffer.from([0x02, 0x00, 0x00, 0x02, 0x01, 0x35, 0x11, 0x22, 0x11, 0x22, 0x00, 0x07, 0x7e, 0x7d]);
    const framed = frame(tricky);
    expect(framed.subarray(1, -1).includes(0x7e)).toBe(false);
    const back = unframe(framed.subarray(1, -1));
    expect(back.ok && back.message.equals(tricky)).toBe(true);
    const splitter = new FrameSplitter(4096);
    const stream = Buffer.concat([Buffer.from('noise'), good, good]);
    const first = splitter.push(stream.subarray(0, 20));
    const rest = splitter.push(stream.subarray(20));
    expect([...first.frames, ...rest.frames].map((f) => f.length)).toEqual([good.length - 2, good.length - 2]);
    // A peer that never closes its frame is cut off at the limit, and the stream recovers at the next flag.
    const small = new FrameSplitter(64);
    expect(small.push(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(100, 1)])).frames).toHaveLength(0);
    const after = small.push(Buffer.concat([Buffer.from([0x7e]), good]));
    expect(after.tooLong).toBe(1);
    expect(after.frames).toHaveLength(1);
  });
});
