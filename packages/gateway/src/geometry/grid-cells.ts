/**
 * The grid black spots and per-cell statistics count in: cells 0.002° on a side (about 220 m
 * north-south, 150-220 m east-west in China's latitudes), named "row:column".
 */
const CELL_DEGREES = 0.002;

/** The cell a WGS-84 point falls in. */
export function cellOf(at: { lat: number; lon: number }): string {
  return `${Math.floor(at.lat / CELL_DEGREES)}:${Math.floor(at.lon / CELL_DEGREES)}`;
}

/** The centre of a cell, rounded to 6 decimals (about 0.1 m). */
export function cellCenter(cell: string): { lat: number; lon: number } {
  const [row, column] = cell.split(':').map(Number) as [number, number];
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return { lat: round((row + 0.5) * CELL_DEGREES), lon: round((column + 0.5) * CELL_DEGREES) };
}
