import { describe, expect, it } from 'vitest';
import { alarmNames, bcdTime } from './location.js';

const bcd = (digits: string) => Buffer.from(digits, 'hex');

describe('JT/T 808 location fields', () => {
  it('reads a BCD time as GMT+8', () => {
    expect(bcdTime(bcd('261203160530'))).toBe(Date.parse('2026-12-03T16:05:30+08:00'));
    expect(bcdTime(bcd('000101000000'))).toBe(Date.parse('2000-01-01T00:00:00+08:00'));
    expect(bcdTime(bcd('991231235959'))).toBe(Date.parse('2099-12-31T23:59:59+08:00'));
  });

  it('knows which days a month has', () => {
    expect(bcdTime(bcd('240229120000'))).toBe(Date.parse('2024-02-29T12:00:00+08:00'));
    expect(bcdTime(bcd('000229120000'))).toBe(Date.parse('2000-02-29T12:00:00+08:00'));
    for (const notADay of ['250229120000', '260431120000', '261131120000', '260100120000', '261301120000', '260001120000']) {
      expect(bcdTime(bcd(notADay)), notADay).toBeUndefined();
    }
  });

  it('refuses what is not BCD or not a time of day', () => {
    for (const bad of ['2612031605a0', '26120324000', '261203240000', '261203166000', '261203160560', 'f61203160530']) {
      expect(bcdTime(bcd(bad)), bad).toBeUndefined();
    }
    expect(bcdTime(bcd('2612031605'))).toBeUndefined();
  });

  it('names alarm bits, none for none', () => {
    expect(alarmNames(0)).toEqual([]);
    expect(alarmNames(0b1)).toEqual(['sos']);
    expect(alarmNames((1 << 29) | (1 << 1))).toEqual(['overspeed', 'collision']);
  });
});
