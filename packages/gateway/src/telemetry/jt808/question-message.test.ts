import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { questionMessage } from './message.js';

describe('a 0x8302 question', () => {
  it('is laid out as a .NET JT/T 808 codec writes one (its test body), with the flag read aloud', () => {
    // SmallChi/JT808's JT808_0x8302Test: flag 1 (urgent), "sdddaff", answers 128 "123456" and 127 "123457".
    const theirs = Buffer.from('0107736464646166668000063132333435367F0006313233343537', 'hex');
    const ours = questionMessage(
      'sdddaff',
      [
        { id: 128, text: '123456' },
        { id: 127, text: '123457' },
      ],
      true,
    );
    // Ours also sets bit 3, read aloud by TTS.
    expect(ours[0]).toBe(0x09);
    expect(ours.subarray(1)).toEqual(theirs.subarray(1));
  });

  it('cuts a long question at a character to the 255 bytes its length byte allows, and keeps the answers whole', () => {
    const question = '派单'.repeat(100);
    const body = questionMessage(question, [{ id: 1, text: '接单' }], false);
    expect(body[0]).toBe(0x08);
    expect(body[1]).toBe(254);
    expect(iconv.decode(body.subarray(2, 256), 'gbk')).toBe(question.slice(0, 127));
    expect(body.subarray(256)).toEqual(Buffer.concat([Buffer.from([1, 0, 4]), iconv.encode('接单', 'gbk')]));
  });
});
