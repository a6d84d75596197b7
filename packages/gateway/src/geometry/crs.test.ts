import { describe, expect, it } from 'vitest';
import { distanceMeters } from './distance.js';
import { fromWgs84, toWgs84 } from './crs.js';

const GUANGZHOU = { lat: 23.1291, lon: 113.2644 };

describe('coordinate systems', () => {
  it('offsets Guangzhou by the published amounts: about 620 m to GCJ-02 and 1,270 m to BD-09', () => {
    const gcj = fromWgs84(GUANGZHOU.lat, GUANGZHOU.lon, 'gcj02');
    const bd = fromWgs84(GUANGZHOU.lat, GUANGZHOU.lon, 'bd09');
    expect(distanceMeters(GUANGZHOU, gcj)).toBeGreaterThan(550);
    expect(distanceMeters(GUANGZHOU, gcj)).toBeLessThan(700);
    expect(distanceMeters(GUANGZHOU, bd)).toBeGreaterThan(1150);
    expect(distanceMeters(GUANGZHOU, bd)).toBeLessThan(1400);
  });

  it('brings points back to WGS-84 within 2 m, on a grid over all of China', () => {
    let worst = 0;
    for (let lat = 18.2; lat <= 53.5; lat += 0.7) {
      for (let lon = 73.7; lon <= 134.7; lon += 0.9) {
        for (const crs of ['gcj02', 'bd09'] as const) {
          const shown = fromWgs84(lat, lon, crs);
          worst = Math.max(worst, distanceMeters({ lat, lon }, toWgs84(shown.lat, shown.lon, crs)));
        }
      }
    }
    expect(worst).toBeLessThan(2);
  });

  it('leaves points outside China as they are, as GCJ-02 itself does', () => {
    for (const point of [
      { lat: 51.5074, lon: -0.1278 },
      { lat: -33.8688, lon: 151.2093 },
      { lat: 40.7128, lon: -74.006 },
    ]) {
      for (const crs of ['gcj02', 'bd09'] as const) {
        expect(fromWgs84(point.lat, point.lon, crs)).toEqual(point);
        expect(toWgs84(point.lat, point.lon, crs)).toEqual(point);
      }
    }
  });

  it("ends on points at the edge of the China box, where gcoord's own inverse never returns", () => {
    // gcoord's GCJ02ToWGS84 loops forever on [72.004, 30]: ours caps its steps.
    for (const [lon, lat] of [
      [72.004, 30],
      [72.0039, 30],
      [137.8347, 40],
      [100, 55.8271],
      [100, 0.8293],
      [137.83, 55.82],
    ] as const) {
      for (const crs of ['gcj02', 'bd09'] as const) {
        const back = toWgs84(lat, lon, crs);
        expect(Number.isFinite(back.lat) && Number.isFinite(back.lon)).toBe(true);
        expect(distanceMeters({ lat, lon }, back)).toBeLessThan(2000);
      }
    }
  });
});
