import { describe, expect, it } from 'vitest';
import { ZoneFileError, zonesFromGeoJson } from './zone-file.js';

const square = [
  [
    [113.3, 23.1],
    [113.31, 23.1],
    [113.31, 23.11],
    [113.3, 23.11],
    [113.3, 23.1],
  ],
];

describe('zonesFromGeoJson', () => {
  it('reads a FeatureCollection as one zone per feature, named by its properties', () => {
    const file = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', id: 'liede', properties: { name: '猎德村 Liede' }, geometry: { type: 'Polygon', coordinates: square } },
        { type: 'Feature', properties: { id: 'xian', 名称: '冼村' }, geometry: { type: 'MultiPolygon', coordinates: [square] } },
        { type: 'Feature', properties: null, geometry: { type: 'Polygon', coordinates: square } },
      ],
    };
    expect(zonesFromGeoJson(JSON.stringify(file))).toEqual([
      { id: 'liede', name: '猎德村 Liede', geometry: { type: 'Polygon', coordinates: square } },
      { id: 'xian', name: '冼村', geometry: { type: 'MultiPolygon', coordinates: [square] } },
      { geometry: { type: 'Polygon', coordinates: square } },
    ]);
  });

  it('reads a single Feature or a bare geometry', () => {
    expect(zonesFromGeoJson(JSON.stringify({ type: 'Feature', properties: { name: 'Park' }, geometry: { type: 'Polygon', coordinates: square } }))).toEqual([
      { name: 'Park', geometry: { type: 'Polygon', coordinates: square } },
    ]);
    expect(zonesFromGeoJson(JSON.stringify({ type: 'Polygon', coordinates: square }))).toEqual([{ geometry: { type: 'Polygon', coordinates: square } }]);
  });

  it('says what is wrong with a file that cannot be zones', () => {
    const refusal = (source: string) => {
      try {
        zonesFromGeoJson(source);
      } catch (error) {
        expect(error).toBeInstanceOf(ZoneFileError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal('PK\u0003\u0004 a shapefile zip')).toBe('The file is not JSON; export the zones as GeoJSON.');
    expect(refusal('[1, 2]')).toBe('The file is not a GeoJSON object.');
    expect(refusal(JSON.stringify({ type: 'FeatureCollection', features: [] }))).toBe('The FeatureCollection has no features.');
    expect(
      refusal(
        JSON.stringify({
          type: 'FeatureCollection',
          features: [
            { type: 'Feature', geometry: { type: 'Polygon', coordinates: square } },
            {
              type: 'Feature',
              geometry: {
                type: 'LineString',
                coordinates: [
                  [113.3, 23.1],
                  [113.4, 23.2],
                ],
              },
            },
          ],
        }),
      ),
    ).toBe('Feature 2 is a LineString; a zone needs a Polygon or MultiPolygon.');
    expect(refusal(JSON.stringify({ type: 'Feature', properties: {} }))).toBe('The feature has no geometry.');
    expect(
      refusal(
        JSON.stringify({
          type: 'FeatureCollection',
          features: Array.from({ length: 201 }, () => ({ type: 'Feature', geometry: { type: 'Polygon', coordinates: square } })),
        }),
      ),
    ).toBe('The file has 201 features; upload at most 200 at a time.');
  });
});
