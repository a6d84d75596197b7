import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeDriverCard } from './driver-card.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
/** 2018-08-16 09:16:16 on the terminal's clock (GMT+8). */
const AUG_16 = Date.UTC(2018, 7, 16, 1, 16, 16);

// Bodies as SmallChi/JT808 (a .NET JT/T 808 codec) tests its 0x0702 with: the card taken out,
// put in and not read, put in and read, its 20-byte code padded after (as most terminals) and
// before (as that codec writes it), and a 2019 body with the driver's ID card number after.
describe('a 0x0702 driver identity report', () => {
  it('taken out: the status and the time', () => {
    expect(decodeDriverCard(hex('02 18 08 16 09 16 16'))).toEqual({ status: 'removed', at: AUG_16 });
  });

  it('put in and not read: why (1 key authentication failed ... 4 checksum error)', () => {
    expect(decodeDriverCard(hex('01 18 08 16 09 16 16 01'))).toEqual({ status: 'unread', at: AUG_16, failure: 'key_auth_failed' });
    expect(decodeDriverCard(hex('01 18 08 16 09 16 16 04'))).toEqual({ status: 'unread', at: AUG_16, failure: 'checksum_error' });
    expect(decodeDriverCard(hex('01 18 08 16 09 16 16 05'))).toBeUndefined();
  });

  it('put in and read: the name, the qualification code however it is padded, the authority and the expiry', () => {
    const read = { status: 'inserted', at: AUG_16, name: 'koike', qualificationCode: 'qwe123456aaa', authority: 'qwertx', expires: '2018-08-16' };
    expect(decodeDriverCard(hex('0118081609161600056B6F696B6571776531323334353661616100000000000000000671776572747820180816'))).toEqual(read);
    expect(decodeDriverCard(hex('0118081609161600056B6F696B6500000000000000007177653132333435366161610671776572747820180816'))).toEqual(read);
    // 2019: the ID card number follows (not used).
    expect(
      decodeDriverCard(
        hex('0119120111111100056B6F696B65717765313233343536616161000000000000000006717765727478201912013132333435363738393031323334353637000000'),
      ),
    ).toEqual({ ...read, at: Date.UTC(2019, 11, 1, 3, 11, 11), expires: '2019-12-01' });
  });

  it('reads the name and authority as GBK, as Chinese cards carry them', () => {
    const name = iconv.encode('李师傅', 'gbk');
    const authority = iconv.encode('广州市交通运输局', 'gbk');
    const code = Buffer.alloc(20);
    code.write('440106198801011234', 'latin1');
    const body = Buffer.concat([
      hex('01 26 12 07 07 30 00 00'),
      Buffer.from([name.length]),
      name,
      code,
      Buffer.from([authority.length]),
      authority,
      hex('20300101'),
    ]);
    expect(decodeDriverCard(body)).toEqual({
      status: 'inserted',
      at: Date.UTC(2026, 11, 6, 23, 30, 0),
      name: '李师傅',
      qualificationCode: '440106198801011234',
      authority: '广州市交通运输局',
      expires: '2030-01-01',
    });
  });

  it('is not a report when cut short, of another status, with a time that is not one, or with no code', () => {
    const whole = hex('0118081609161600056B6F696B6571776531323334353661616100000000000000000671776572747820180816');
    for (let length = 0; length < whole.length; length++) expect(decodeDriverCard(whole.subarray(0, length)), `${length} bytes`).toBeUndefined();
    expect(decodeDriverCard(hex('03 18 08 16 09 16 16'))).toBeUndefined();
    expect(decodeDriverCard(hex('02 18 13 16 09 16 16'))).toBeUndefined();
    expect(decodeDriverCard(Buffer.concat([hex('0118081609161600 05 6B6F696B65'), Buffer.alloc(20), hex('00 20180816')]))).toBeUndefined();
  });
});
