import type { Zone, ZoneGeometry } from '@civicloop/model';
import { describe, expect, it } from 'vitest';
import { zonesContaining } from './zone-lookup.js';

type Ring = [number, number][];
/** An axis-aligned rectangle as a closed ring, counter-clockwise (RFC 7946's recommendation) or clockwise. */
const rect = (west: number, south: number, east: number, north: number, clockwise = false): Ring => {
  const ring: Ring = [
    [west, south],
    [east, south],
    [east, north],
    [west, north],
    [west, south],
  ];
  return clockwise ? ring.reverse() : ring;
};
const zone = (id: string, geometry: ZoneGeometry): Zone => ({
  id,
  name: id,
  type: 'other',
  geometry,
  routes: [],
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});
const ids = (zones: Zone[]) => zones.map((z) => z.id);

describe('zonesContaining', () => {
  const inVillage = { lat: 23.125, lon: 113.325 };
  const village = zone('village', { type: 'Polygon', coordinates: [rect(113.32, 23.12, 113.33, 23.13)] });

  it('puts a village before the street office around it, whichever way each ring winds', () => {
    for (const clockwise of [false, true]) {
      const office = zone('office', { type: 'Polygon', coordinates: [rect(113.3, 23.1, 113.4, 23.2, clockwise)] });
      expect(ids(zonesContaining([office, village], inVillage))).toEqual(['village', 'office']);
      expect(ids(zonesContaining([village, office], inVillage))).toEqual(['village', 'office']);
    }
  });

  it('adds up the parts of a MultiPolygon by size, so parts wound both ways do not cancel into a tiny area', () => {
    // A district with an exclave, its two parts drawn by different tools: one counter-clockwise, one clockwise.
    // Summed with their signs, the two equal parts cancel to 0 and the district would come before the village.
    const district = zone('district', {
      type: 'MultiPolygon',
      coordinates: [[rect(113.3, 23.1, 113.4, 23.2)], [rect(113.5, 23.1, 113.6, 23.2, true)]],
    });
    expect(ids(zonesContaining([district, village], inVillage))).toEqual(['village', 'district']);
  });

  it('takes holes out of a zone’s area', () => {
    // A ring road's zone: a large square with a larger hole, so what it covers is smaller than the market's block.
    const ringRoad = zone('ring-road', { type: 'Polygon', coordinates: [rect(113.3, 23.1, 113.4, 23.2), rect(113.302, 23.102, 113.398, 23.198, true)] });
    const market = zone('market', { type: 'Polygon', coordinates: [rect(113.299, 23.099, 113.33, 23.13)] });
    const onTheRoad = { lat: 23.101, lon: 113.301 };
    expect(ids(zonesContaining([market, ringRoad], onTheRoad))).toEqual(['ring-road', 'market']);
    // Inside the hole the ring road's zone does not apply at all.
    expect(ids(zonesContaining([market, ringRoad], { lat: 23.11, lon: 113.31 }))).toEqual(['market']);
  });
});
