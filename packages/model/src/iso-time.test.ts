import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoTime } from './iso-time.js';

const MIN = Date.parse('0000-01-01T00:00:00.000Z');
const MAX = Date.parse('9999-12-31T23:59:59.999Z');

describe('parseIsoTime', () => {
  it('gives what Date.parse gives for every time toISOString writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(parseIsoTime(text)).toBe(Date.parse(text));
        expect(parseIsoTime(text)).toBe(ms);
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives what Date.parse gives (NaN included) for any text of that shape, in range or not', () => {
    const digit = fc.constantFrom(...'0123456789/:'.split(''));
    const shaped = fc
      .array(digit, { minLength: 17, maxLength: 17 })
      .map((d) => `${d.slice(0, 4).join('')}-${d[4]}${d[5]}-${d[6]}${d[7]}T${d[8]}${d[9]}:${d[10]}${d[11]}:${d[12]}${d[13]}.${d.slice(14).join('')}Z`);
    const other = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+08:00')),
      fc.date({ noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 19)}Z`),
    );
    fc.assert(
      fc.property(fc.oneof(shaped, other), (text) => {
        expect(Object.is(parseIsoTime(text), Date.parse(text))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("rolls a day past the month's end over as Date.parse does, and reads years before 100 as it does", () => {
    for (const text of [
      '2026-02-30T00:00:00.000Z',
      '2026-04-31T12:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '0050-06-01T00:00:00.000Z',
      '2026-06-01T24:00:00.000Z',
    ]) {
      expect(Object.is(parseIsoTime(text), Date.parse(text)), text).toBe(true);
    }
    expect(parseIsoTime('2026-12-03T18:27:48.756Z')).toBe(Date.UTC(2026, 11, 3, 18, 27, 48, 756));
  });
});
