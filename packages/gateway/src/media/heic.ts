import { createRequire } from 'node:module';

interface HeicImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
type DecodeAll = (input: { buffer: Uint8Array }) => Promise<HeicImage[] & { dispose(): void }>;

let decodeAll: DecodeAll | undefined;

/**
 * The first image of a HEIC file as RGBA pixels, upright (libheif applies the rotation and
 * mirroring boxes). sharp's prebuilt libvips has no HEVC decoder, so this uses libheif compiled
 * to WebAssembly (heic-decode), loaded on the first HEIC upload only. The size is checked before
 * the pixels are allocated.
 */
export async function decodeHeic(bytes: Uint8Array, maxPixels: number): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  decodeAll ??= (createRequire(import.meta.url)('heic-decode') as { all: DecodeAll }).all;
  const images = await decodeAll({ buffer: bytes });
  try {
    const first = images[0];
    if (!first) throw new Error('HEIC file holds no image');
    if (first.width * first.height > maxPixels) throw new Error(`HEIC image of ${first.width}x${first.height} is over the pixel limit`);
    return await first.decode();
  } finally {
    images.dispose();
  }
}
