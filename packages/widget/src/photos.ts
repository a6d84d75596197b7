/**
 * Photos are checked and recompressed in the browser before they leave it: the long side goes
 * down to 1600 px, the result is a fresh JPEG (which carries no EXIF, so no GPS trail or device
 * serial), and damaged or non-image files are refused with a reason the resident understands.
 * A HEIC photo the browser cannot decode goes up as it is, and the gateway converts it.
 */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const MAX_PHOTOS = 3;
export const LONG_SIDE = 1600;
const QUALITY = 0.85;

export type PhotoProblem = 'photoTooLarge' | 'photoNotImage' | 'photoTruncated' | 'photoUndecodable';

export class PhotoError extends Error {
  constructor(readonly problem: PhotoProblem) {
    super(problem);
  }
}

type Format = 'jpeg' | 'png' | 'webp' | 'heic';

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) => prefix.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

/** The format by its first bytes; the file name and the browser's guessed type are not evidence. */
export function sniff(head: Uint8Array): Format | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  if (ascii(head, 4, 8) === 'ftyp' && /^(heic|heix|hevc|hevx|mif1|msf1)$/.test(ascii(head, 8, 12))) return 'heic';
  return undefined;
}

/** Whether the file ends where its format says it must: a cut-off upload decodes half grey. */
async function isComplete(file: Blob, format: Format): Promise<boolean> {
  const tail = new Uint8Array(await file.slice(Math.max(0, file.size - 64)).arrayBuffer());
  if (format === 'jpeg') {
    // End-of-image marker, possibly followed by padding some cameras add.
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
    return false;
  }
  if (format === 'png') return ascii(tail, 0, tail.length).includes('IEND');
  if (format === 'webp') {
    const head = new DataView(await file.slice(0, 8).arrayBuffer());
    return head.getUint32(4, true) + 8 <= file.size;
  }
  return true;
}

async function encode(bitmap: ImageBitmap): Promise<Blob> {
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new PhotoError('photoUndecodable'))), 'image/jpeg', QUALITY));
}

/** A photo ready to upload, or a PhotoError saying why this file cannot be one. */
export async function preparePhoto(file: Blob): Promise<Blob> {
  if (file.size > MAX_PHOTO_BYTES) throw new PhotoError('photoTooLarge');
  const format = sniff(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  if (!format) throw new PhotoError('photoNotImage');
  if (!(await isComplete(file, format))) throw new PhotoError('photoTruncated');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    // Most browsers cannot decode HEIC (Safari can): the gateway converts it, EXIF stripped there.
    if (format === 'heic') return file;
    throw new PhotoError('photoUndecodable');
  }
  try {
    return await encode(bitmap);
  } finally {
    bitmap.close();
  }
}
