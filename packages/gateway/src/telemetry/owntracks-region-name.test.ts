import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOSTILE_STRINGS } from '@civicloop/test-support/fuzz.js';
import { REGION_NAME_MAX, regionName } from './owntracks-jobs.js';

const job = (address: string | undefined) => ({
  number: 'GZ-20261207-0042',
  category: 'sanitation.bin_overflow',
  location: { lat: 23.1291, lon: 113.2644, ...(address === undefined ? {} : { address }) },
});

describe("an OwnTracks job region's name", () => {
  it('is the number, the category and the address, with no colon, no control character and no lone surrogate, whatever the address', () => {
    expect(regionName(job('Gate 3: west side'))).toBe('GZ-20261207-0042 垃圾桶满溢 Gate 3 west side');
    expect(regionName(job(undefined))).toBe('GZ-20261207-0042 垃圾桶满溢');
    const addresses = fc.oneof(
      fc.constantFrom(...HOSTILE_STRINGS),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
    );
    fc.assert(
      fc.property(addresses, (address) => {
        const name = regionName(job(address));
        expect(name.startsWith('GZ-20261207-0042 垃圾桶满溢')).toBe(true);
        expect(name).not.toMatch(/[:\p{Cc}]/u);
        expect(Array.from(name).length).toBeLessThanOrEqual(REGION_NAME_MAX);
        // Well-formed UTF-16 (encodeURIComponent throws on a lone surrogate): what a JSON parser
        // on the phone reads back as it was sent.
        expect(() => encodeURIComponent(name)).not.toThrow();
        expect(JSON.parse(JSON.stringify(name))).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});
