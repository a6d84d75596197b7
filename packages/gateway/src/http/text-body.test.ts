import { describe, expect, it } from 'vitest';
import { decodeTextBody } from './text-body.js';

// 你好 in GBK (the GB2312 area of the table): C4E3 BAC3.
const NIHAO_GBK = Uint8Array.from([0xc4, 0xe3, 0xba, 0xc3]);

describe('decodeTextBody', () => {
  it('reads UTF-8 when Content-Type names no charset, without its byte order mark', () => {
    expect(decodeTextBody(new TextEncoder().encode('\ufeffa,b\n你好,1'), 'text/csv')).toBe('a,b\n你好,1');
    expect(decodeTextBody(new TextEncoder().encode('x'), undefined)).toBe('x');
  });

  it('reads the charset the header names, however it is written', () => {
    for (const header of ['text/csv; charset=gb18030', 'text/csv;charset=GBK', 'text/csv; charset="gb2312"', 'TEXT/CSV; Charset=GB18030; header=present'])
      expect(decodeTextBody(NIHAO_GBK, header), header).toBe('你好');
    expect(decodeTextBody(Uint8Array.from([0x60, 0x4f, 0x7d, 0x59]), 'text/csv; charset=utf-16le')).toBe('你好');
  });

  it('refuses bytes that are not in the charset, rather than keeping replacement characters', () => {
    expect(() => decodeTextBody(NIHAO_GBK, 'text/csv')).toThrow(
      expect.objectContaining({ code: 'CL_ERR_VALIDATION', message: expect.stringMatching(/not valid UTF-8.*charset=gb18030/) }),
    );
    expect(() => decodeTextBody(Uint8Array.from([0xc4]), 'text/csv; charset=gbk')).toThrow(
      expect.objectContaining({ code: 'CL_ERR_VALIDATION', message: expect.stringContaining('not valid gbk') }),
    );
  });

  it('refuses a charset it does not know, naming it', () => {
    expect(() => decodeTextBody(NIHAO_GBK, 'text/csv; charset=ebcdic-klingon')).toThrow(
      expect.objectContaining({ code: 'CL_ERR_UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('charset=ebcdic-klingon') }),
    );
  });
});
