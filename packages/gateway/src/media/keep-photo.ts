import type { MediaStore } from './media-store.js';
import { processPhoto, type ProcessedPhoto } from './process-photo.js';

/** A photo processed and in the media store, under the names its links and refs use. */
export interface KeptPhotoFile {
  photo: ProcessedPhoto;
  /** `<tenant>/<sha256>.<ext>`: `media:<key>` is its ref. */
  key: string;
  thumbKey: string;
}

/** A stored photo's thumbnail, by the photo's key (`<tenant>/<sha256>.<ext>` -> `<tenant>/<sha256>.thumb.jpg`). */
export const thumbKeyOf = (key: string): string => key.replace(/\.[a-z]+$/, '.thumb.jpg');

/**
 * Processes an image (EXIF stripped, a thumbnail made: process-photo.ts) and stores it under the
 * SHA-256 of the processed bytes, so the same photo is stored once. The thumbnail goes first: a
 * photo whose key exists always has its thumbnail. Throws CL_ERR_MEDIA_TYPE or
 * CL_ERR_MEDIA_CORRUPT for what is not a readable image, before anything is stored.
 */
export async function keepPhoto(store: MediaStore, tenantId: string, input: Buffer): Promise<KeptPhotoFile> {
  const photo = await processPhoto(input);
  const key = `${tenantId}/${photo.sha256}.${photo.ext}`;
  const thumbKey = thumbKeyOf(key);
  if (!(await store.exists(key))) {
    await store.put(thumbKey, photo.thumbnail, 'image/jpeg');
    await store.put(key, photo.bytes, photo.contentType);
  }
  return { photo, key, thumbKey };
}
