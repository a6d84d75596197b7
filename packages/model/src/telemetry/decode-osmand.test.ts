import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOsmAnd } from './decode-osmand.js';
import { DEFAULT_DECODE_LIMITS } from './decode-shared.js';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const phone = { id: 'b-9', kind: 'badge' as const };
const decode = (input: Record<string, unknown>) => decodeOsmAnd(input, phone, NOW, DEFAULT_DECODE_LIMITS);

describe('decodeOsmAnd (OsmAnd / Traccar Client HTTP)', () => {
  it('maps the query form as Traccar Client sends it: epoch seconds, speed in knots, battery percent', () => {
    const decoded = decode({
      id: 'b-9',
      timestamp: String(NOW / 1000 - 5),
      lat: '23.1291',
      lon: '113.2644',
      speed: '10',
      bearing: '45.5',
      altitude: '21.3',
      accuracy: '8.0',
      batt: '76.0',
    });
    expect(decoded).toMatchObject({
      type: 'positions',
      records: [
        {
          deviceId: 'b-9',
          source: 'osmand',
          fixTime: NOW - 5000,
          lat: 23.1291,
          lon: 113.2644,
          speedKmh: 18.52,
          course: 45.5,
          altitude: 21.3,
          accuracy: 8,
          battery: 76,
          valid: true,
          alarms: [],
        },
      ],
    });
  });

  it("maps Traccar Client's JSON: speed in m/s, heading, battery level 0-1, ISO time, its alarm", () => {
    const decoded = decode({
      location: {
        timestamp: '2026-11-21T02:59:50.000Z',
        coords: { latitude: 23.13, longitude: 113.26, speed: 5, heading: 90, accuracy: 4, altitude: 10 },
        battery: { level: 0.42 },
        alarm: 'sos',
      },
    });
    expect(decoded).toMatchObject({
      type: 'positions',
      records: [{ fixTime: NOW - 10_000, lat: 23.13, lon: 113.26, speedKmh: 18, course: 90, accuracy: 4, battery: 42, alarms: ['sos'] }],
    });
  });

  it('takes location=lat,lon, epoch milliseconds, heading for bearing, and names alarms as we do', () => {
    expect(decode({ location: '23.1,113.3', timestamp: String(NOW - 2000), heading: '180', alarm: 'lowBattery' })).toMatchObject({
      type: 'positions',
      records: [{ lat: 23.1, lon: 113.3, fixTime: NOW - 2000, course: 180, alarms: ['low_battery'] }],
    });
    expect(decode({ lat: 23.1, lon: 113.3, alarm: 'fallDown' })).toMatchObject({ records: [{ alarms: ['fall'], fixTime: NOW }] });
    expect(decode({ lat: 23.1, lon: 113.3, alarm: 'powerCut' })).toMatchObject({ records: [{ alarms: ['power_cut'] }] });
    expect(decode({ lat: 23.1, lon: 113.3, alarm: '<script>' })).toMatchObject({ records: [{ alarms: [] }] });
  });

  it('sets aside a message without a position and refuses bad numbers and times with a reason', () => {
    expect(decode({ id: 'b-9', batt: '50' })).toMatchObject({ type: 'ignored', reason: 'no_position' });
    expect(decode({ lat: 'north', lon: '113' })).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decode({ lat: '91', lon: '113' })).toMatchObject({ type: 'rejected', reason: 'out_of_range' });
    expect(decode({ lat: '23', lon: '113', timestamp: 'yesterday' })).toMatchObject({ type: 'rejected', reason: 'schema' });
    expect(decode({ lat: '23', lon: '113', timestamp: String(NOW / 1000 + 3600) })).toMatchObject({ type: 'rejected' });
    expect(decode({ location: { coords: 'here' } })).toMatchObject({ type: 'rejected', reason: 'schema' });
  });

  it('never throws, whatever the fields hold, and what it keeps is a point a map can draw at a time a Date can hold', () => {
    const hostile = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('1e308', '-0', 'NaN', 'Infinity', ' 23.1 ', '0x10', '', String(NOW), String(NOW / 1000), '8640000000000001'),
    );
    const coord = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('23.1', '113.3', 23.1, 0, '-45.5') }, { weight: 1, arbitrary: hostile });
    const query = fc.record(
      {
        lat: coord,
        lon: coord,
        location: hostile,
        timestamp: hostile,
        speed: hostile,
        bearing: hostile,
        heading: hostile,
        altitude: hostile,
        accuracy: hostile,
        batt: hostile,
        valid: hostile,
        alarm: hostile,
      },
      { requiredKeys: [] },
    );
    const json = fc.record({
      location: fc.oneof(
        hostile,
        fc.record(
          {
            timestamp: hostile,
            coords: fc.oneof(
              hostile,
              fc.record({ latitude: coord, longitude: coord, speed: hostile, heading: hostile, accuracy: hostile, altitude: hostile }, { requiredKeys: [] }),
            ),
            battery: fc.oneof(hostile, fc.record({ level: hostile })),
            alarm: hostile,
          },
          { requiredKeys: [] },
        ),
      ),
    });
    fc.assert(
      fc.property(fc.oneof(query, json), (input) => {
        const result = decode(input as Record<string, unknown>);
        expect(['positions', 'ignored', 'rejected']).toContain(result.type);
        if (result.type === 'positions') {
          for (const r of result.records) {
            expect(Number.isFinite(r.lat) && Math.abs(r.lat) <= 85.05112878 && Math.abs(r.lon) <= 180).toBe(true);
            expect(new Date(r.fixTime).toISOString()).toMatch(/^\d{4}-/);
            for (const value of [r.speedKmh, r.course, r.altitude, r.accuracy, r.battery]) if (value !== undefined) expect(Number.isFinite(value)).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
