export type ImageType = 'jpeg' | 'png' | 'webp' | 'heic';

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** The image type by the file's first bytes (its magic number), never by its name. */
export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  const at = (i: number) => bytes[i];
  const ascii = (start: number, length: number) => String.fromCharCode(...bytes.subarray(start, start + length));
  if (bytes.length >= 3 && at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'png';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  // ISO-BMFF: [size]['ftyp'][major brand]
  if (bytes.length >= 12 && ascii(4, 4) === 'ftyp' && HEIC_BRANDS.has(ascii(8, 4))) return 'heic';
  return undefined;
}
