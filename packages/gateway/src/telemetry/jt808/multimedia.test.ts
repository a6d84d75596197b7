import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS } from '@civicloop/model';
import { unframe } from './frame.js';
import { decodeLocation } from './location.js';
import { parseMessage } from './message.js';
import { cameraCommand, decodeCameraAnswer, decodeMultimediaUpload, multimediaAnswer } from './multimedia.js';

// Bodies and frames as SmallChi/JT808 (a .NET JT/T 808 codec) tests its 0x0801, 0x0805, 0x8800
// and 0x8801 with (src/JT808.Protocol.Test/MessageBody); the expected values are read off the
// standard, not from our decoder.
const hex = (s: string) => Buffer.from(s, 'hex');
const device = { id: 'v-camera', kind: 'vehicle' as const };
const limits = { ...DEFAULT_DECODE_LIMITS, maxAgeMs: Number.MAX_SAFE_INTEGER };

describe('JT/T 808 multimedia messages', () => {
  it('reads the first part of a camera photo a terminal uploaded (0x0801 in ten sub-packages)', () => {
    // JT808_0x0801Test.Package1. Its checksum byte does not match its bytes (that test skips the
    // check; the terminal number looks edited), so it is worked out again here.
    const escaped = hex(readFileSync(new URL('./fixtures/smallchi-0x0801-part-1-of-10.hex', import.meta.url), 'utf8').trim()).subarray(1, -1);
    const unescaped: number[] = [];
    for (let i = 0; i < escaped.length; i++) unescaped.push(escaped[i] === 0x7d ? (escaped[++i] === 0x02 ? 0x7e : 0x7d) : escaped[i]!);
    unescaped[unescaped.length - 1] = unescaped.slice(0, -1).reduce((check, byte) => check ^ byte, 0);
    const unframed = unframe(Buffer.from(unescaped.flatMap((byte) => (byte === 0x7e ? [0x7d, 0x02] : byte === 0x7d ? [0x7d, 0x01] : [byte]))));
    if (!unframed.ok) throw new Error(unframed.fault);
    const parsed = parseMessage(unframed.message);
    if (!parsed.ok) throw new Error(parsed.fault);
    const { header, body } = parsed.message;
    expect(header).toMatchObject({ id: 0x0801, version: 2013, terminal: '013812345678', part: { total: 10, index: 1 } });
    expect(body.length).toBe(804);
    const upload = decodeMultimediaUpload(body)!;
    // Multimedia id 10013, an image, JPEG, taken on the terminal's timer, camera 1.
    expect(upload).toMatchObject({ id: 10013, type: 0, format: 0, event: 'timed', channel: 1 });
    expect(upload.data.subarray(0, 2)).toEqual(hex('ffd8'));
    const fix = decodeLocation(upload.location!, device, Date.now(), limits);
    if (!fix.ok) throw new Error(fix.detail);
    // 30.556170 N, 103.978661 E (Chengdu), 481 m, at 19-01-04 09:29:52 GMT+8.
    expect(fix.record).toMatchObject({ lat: 30.55617, lon: 103.978661, altitude: 481 });
    expect(new Date(fix.record.fixTime).toISOString()).toBe('2019-01-04T01:29:52.000Z');
  });

  it('reads the 2013 body with its location, and the 2011 body without one', () => {
    const with2013 = decodeMultimediaUpload(hex('00000A070000017B000000010000000200BA7F0E07E4F11C0028003C000018111523261001020304'))!;
    expect(with2013).toMatchObject({ id: 2567, type: 0, format: 0, event: 'timed', channel: 123, data: hex('01020304') });
    const fix = decodeLocation(with2013.location!, device, Date.now(), limits);
    if (!fix.ok) throw new Error(fix.detail);
    expect(fix.record).toMatchObject({ lat: 12.222222, lon: 132.444444, altitude: 40, speedKmh: 6 });
    expect(new Date(fix.record.fixTime).toISOString()).toBe('2018-11-15T15:26:10.000Z');
    const in2011 = decodeMultimediaUpload(hex('00000A070000017B01020304'))!;
    expect(in2011).toMatchObject({ id: 2567, channel: 123, data: hex('01020304') });
    expect(in2011.location).toBeUndefined();
    // A 2011 JPEG: its start right after the eight bytes.
    const jpeg2011 = decodeMultimediaUpload(Buffer.concat([hex('0000000700000201'), hex('ffd8ffe0'), Buffer.alloc(40)]))!;
    expect(jpeg2011).toMatchObject({ id: 7, event: 'robbery_alarm', channel: 1 });
    expect(jpeg2011.location).toBeUndefined();
    expect(jpeg2011.data.subarray(0, 2)).toEqual(hex('ffd8'));
    // Reserved event codes, and a body too short to be one.
    expect(decodeMultimediaUpload(hex('0000000100004001'))?.event).toBe('other');
    expect(decodeMultimediaUpload(hex('00000001000000'))).toBeUndefined();
  });

  it("writes the platform's answer and camera command, and reads the camera's answer, in the standard's layout", () => {
    // 0x8800: the id, then how many packets to send again (none: JT808_0x8800Test's has two).
    expect(multimediaAnswer(129)).toEqual(hex('0000008100'));
    expect(hex('000000810201020304').subarray(0, 4)).toEqual(multimediaAnswer(129).subarray(0, 4));
    // 0x8801 as JT808_0x8801Test lays it out ('8000000A7E010809EB7E78F5': channel, shots WORD,
    // interval WORD, save flag, resolution, quality, brightness, contrast, saturation, chroma).
    const command = cameraCommand(2);
    expect(command.length).toBe(hex('8000000A7E010809EB7E78F5').length);
    expect({ channel: command[0], shots: command.readUInt16BE(1), interval: command.readUInt16BE(3), save: command[5], resolution: command[6] }).toEqual({
      channel: 2,
      shots: 1,
      interval: 0,
      save: 0,
      resolution: 2,
    });
    // 0x0805: the command's serial 12456, done, two photos (JT808_0x0805Test).
    expect(decodeCameraAnswer(hex('30A80000020000301200003124'))).toEqual({ serial: 12456, result: 0, ids: [12306, 12580] });
    expect(decodeCameraAnswer(hex('30A802'))).toEqual({ serial: 12456, result: 2, ids: [] });
    expect(decodeCameraAnswer(hex('30A8'))).toBeUndefined();
  });
});
