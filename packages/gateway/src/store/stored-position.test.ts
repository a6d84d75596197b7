import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { POSITION_SOURCES, type PositionRecord } from '@civicloop/model';
import { decodeStoredPosition, encodeStoredPosition } from './stored-position.js';

const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0));
const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), anyNumber);

/** Any record the type allows, with plain and odd values alike. */
const record: fc.Arbitrary<PositionRecord> = fc
  .record({
    deviceId: fc.string(),
    kind: fc.constantFrom('vehicle' as const, 'badge' as const),
    fixTime: time,
    deviceTime: fc.option(time, { nil: undefined }),
    serverTime: time,
    valid: fc.boolean(),
    lat: anyNumber,
    lon: anyNumber,
    altitude: fc.option(anyNumber, { nil: undefined }),
    speedKmh: fc.option(anyNumber, { nil: undefined }),
    course: fc.option(anyNumber, { nil: undefined }),
    accuracy: fc.option(anyNumber, { nil: undefined }),
    battery: fc.option(anyNumber, { nil: undefined }),
    alarms: fc.array(fc.string(), { maxLength: 3 }),
    source: fc.constantFrom(...POSITION_SOURCES),
    key: fc.option(fc.string(), { nil: undefined }),
    received: fc.option(fc.record({ lat: anyNumber, lon: anyNumber, crs: fc.constantFrom('wgs84' as const, 'gcj02' as const, 'bd09' as const) }), {
      nil: undefined,
    }),
    extra: fc.option(fc.dictionary(fc.string(), anyNumber, { maxKeys: 3 }), { nil: undefined }),
  })
  .map(({ deviceTime, key, ...r }) => {
    // Mostly as the decoders make them (key from device and fix time, one time), sometimes not.
    const out: PositionRecord = { ...r, deviceTime: deviceTime ?? r.fixTime, key: key ?? `${r.deviceId}:${r.fixTime}` };
    for (const name of ['altitude', 'speedKmh', 'course', 'accuracy', 'battery', 'received', 'extra'] as const) {
      if (out[name] === undefined) delete out[name];
    }
    return out;
  });

describe('stored positions', () => {
  it('read back as the record would through JSON, whatever it holds', () => {
    fc.assert(
      fc.property(record, (r) => {
        const stored = encodeStoredPosition(r);
        expect(decodeStoredPosition(stored)).toStrictEqual(JSON.parse(JSON.stringify(r)));
      }),
      { numRuns: 3000 },
    );
  });

  it('read records stored whole, as they were before the short form', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(decodeStoredPosition(JSON.stringify(r))).toStrictEqual(JSON.parse(JSON.stringify(r)));
      }),
    );
  });

  it('keep a plain fix to its device, times, point and speed', () => {
    const fix: PositionRecord = {
      deviceId: 'truck-7',
      kind: 'vehicle',
      fixTime: 1_764_777_600_000,
      deviceTime: 1_764_777_600_000,
      serverTime: 1_764_777_600_120,
      valid: true,
      lat: 23.12911,
      lon: 113.26436,
      speedKmh: 20,
      alarms: [],
      source: 'native',
      key: 'truck-7:1764777600000',
    };
    const stored = encodeStoredPosition(fix);
    expect(stored).toBe('{"d":"truck-7","k":"vehicle","t":1764777600000,"s":1764777600120,"la":23.12911,"lo":113.26436,"sp":20}');
    expect(stored.length).toBeLessThan(JSON.stringify(fix).length / 2);
    expect(decodeStoredPosition(stored)).toStrictEqual(fix);
  });
});
