import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { CivicLoopError } from '@civicloop/model';
import { decodeHeic } from './heic.js';
import { sniffImage, type ImageType } from './sniff.js';

export interface ProcessedPhoto {
  type: ImageType;
  sha256: string;
  ext: 'jpg' | 'png' | 'webp';
  contentType: string;
  bytes: Buffer;
  width: number;
  height: number;
  thumbnail: Buffer;
}

/** Longest side kept on the server; the widget already sends 1600 px. */
const MAX_SIDE = 2560;
const THUMB_SIDE = 320;
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Checks an upload is a real image by its bytes, decodes it fully (a truncated file fails
 * here), turns it upright and re-encodes it. Re-encoding drops EXIF and every other metadata
 * block, GPS position included; sharp keeps none unless asked to.
 */
export async function processPhoto(input: Buffer): Promise<ProcessedPhoto> {
  const type = sniffImage(input);
  if (!type) throw new CivicLoopError('CL_ERR_MEDIA_TYPE');
  const ext = type === 'png' ? 'png' : type === 'webp' ? 'webp' : 'jpg';
  let bytes: Buffer;
  let width: number;
  let height: number;
  let thumbnail: Buffer;
  try {
    // HEIC arrives as pixels (decoded beside sharp) and leaves as JPEG, like every other photo.
    const source =
      type === 'heic' ? (await heicAsSharp(input)).removeAlpha() : sharp(input, { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS }).rotate();
    const upright = source.resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true });
    const encoded = ext === 'png' ? upright.png() : ext === 'webp' ? upright.webp({ quality: 85 }) : upright.jpeg({ quality: 85, mozjpeg: true });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    bytes = data;
    width = info.width;
    height = info.height;
    thumbnail = await sharp(data).resize({ width: THUMB_SIDE, height: THUMB_SIDE, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
  } catch {
    throw new CivicLoopError('CL_ERR_MEDIA_CORRUPT');
  }
  return {
    type,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ext,
    contentType: ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : 'image/jpeg',
    bytes,
    width,
    height,
    thumbnail,
  };
}

async function heicAsSharp(input: Buffer): Promise<sharp.Sharp> {
  const { width, height, data } = await decodeHeic(input, MAX_INPUT_PIXELS);
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 4 } });
}
