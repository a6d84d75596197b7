import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceAlert, TicketEvent } from '@civicloop/model';
import { fromWgs84 } from './crs.js';
import { alertIn, eventIn } from './crs-output.js';

const event = (data: unknown): TicketEvent =>
  ({
    id: 'tk_1:1',
    ticketId: 'tk_1',
    version: 1,
    type: 'reported',
    from: null,
    to: 'reported',
    actor: { sub: 'x', role: 'citizen' },
    at: '2026-12-07T00:00:00.000Z',
    data,
  }) as TicketEvent;
const CRS = fc.constantFrom('wgs84' as const, 'gcj02' as const, 'bd09' as const, undefined);

describe('points given in a reader’s system', () => {
  it("convert a report event's place, saying so, and leave the rest of the event as it was", () => {
    const reported = event({ category: 'sanitation.bin_overflow', location: { lat: 23.1291, lon: 113.2644 } });
    const converted = eventIn(reported, 'gcj02');
    expect(converted.data).toEqual({ category: 'sanitation.bin_overflow', location: { ...fromWgs84(23.1291, 113.2644, 'gcj02'), crs: 'gcj02' } });
    expect({ ...converted, data: reported.data }).toEqual(reported);
    // The stored event is not changed, and WGS-84 (asked or not) gives it as it is.
    expect(reported.data).toEqual({ category: 'sanitation.bin_overflow', location: { lat: 23.1291, lon: 113.2644 } });
    expect(eventIn(reported, 'wgs84')).toBe(reported);
    expect(eventIn(reported, undefined)).toBe(reported);
  });

  it('never throw, whatever an event or an alert holds, and change only a place given as two numbers', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.record({ location: fc.record({ lat: fc.oneof(fc.double(), fc.anything()), lon: fc.double() }) })),
        CRS,
        (data, crs) => {
          const given = event(data);
          const out = eventIn(given, crs);
          const location = (data as { location?: { lat?: unknown; lon?: unknown } } | null)?.location;
          const convertible = crs !== undefined && crs !== 'wgs84' && Number.isFinite(location?.lat) && Number.isFinite(location?.lon);
          if (!convertible) expect(out).toBe(given);
          else expect((out.data as { location: { crs: string } }).location.crs).toBe(crs);
        },
      ),
    );
    fc.assert(
      fc.property(fc.option(fc.double({ noNaN: false }), { nil: undefined }), fc.option(fc.double(), { nil: undefined }), CRS, (lat, lon, crs) => {
        const alert = {
          type: 'sos',
          deviceId: 'b_1',
          at: '2026-12-07T00:00:00.000Z',
          ...(lat === undefined ? {} : { lat }),
          ...(lon === undefined ? {} : { lon }),
        } as DeviceAlert;
        const out = alertIn(alert, crs);
        if (crs === undefined || crs === 'wgs84' || !Number.isFinite(lat) || !Number.isFinite(lon)) expect(out).toBe(alert);
        else expect(out).toEqual({ ...alert, ...fromWgs84(lat!, lon!, crs) });
      }),
    );
  });
});
