import { CATEGORIES } from '@civicloop/model';

/** One report, always the same: the tickets a benchmark sets up to read and move. */
export const BIN_REPORT = JSON.stringify({
  category: 'sanitation.bin_overflow',
  description: 'The bin at the bus stop is overflowing again',
  location: { lat: 23.1291, lon: 113.2644, accuracy: 10, address: 'Tianhe Rd' },
  photos: [{ ref: 'https://photos.example.org/before.jpg' }],
});

/**
 * New reports spread as real ones are: over the district (0.5 degrees square) and over every
 * category, so that only now and then is one a likely duplicate of an open one. Each call of the
 * returned function gives the next.
 */
export function spreadReports(): () => string {
  const codes = CATEGORIES.map((c) => c.code);
  let n = 0;
  return () =>
    JSON.stringify({
      category: codes[n++ % codes.length],
      description: 'The bin at the bus stop is overflowing again',
      location: { lat: 22.9 + Math.random() * 0.5, lon: 113.1 + Math.random() * 0.5, accuracy: 10, address: 'Tianhe Rd' },
      photos: [{ ref: 'https://photos.example.org/before.jpg' }],
    });
}
