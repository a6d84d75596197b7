import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ShownPhoto } from '@civicloop/model';
import { KEY_PATTERN } from './media-store.js';

const HOUR_S = 3600;

/**
 * Signed links to stored photos. A photo of a private ticket must not be reachable without
 * credentials, yet a page shows it with an <img>, which cannot send a token: so readers who may
 * see the ticket get its photos as links signed with a key derived from the master key (the same
 * on every gateway), valid until the end of the next hour, so that a link is stable, and
 * cacheable, for an hour at a time.
 */
export class MediaUrls {
  private readonly key: Buffer;

  constructor(masterKey: string) {
    this.key = createHmac('sha256', masterKey).update('civicloop-media-url-v1').digest();
  }

  private signature(key: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${key}\n${expires}`).digest('base64url').slice(0, 32);
  }

  /** `/v1/media/<tenant>/<name>?exp=...&sig=...` for a stored photo's key. */
  sign(key: string, now: Date): string {
    const expires = (Math.floor(now.getTime() / 1000 / HOUR_S) + 2) * HOUR_S;
    return `/v1/media/${key}?exp=${expires}&sig=${this.signature(key, expires)}`;
  }

  /** Whether a link's signature is ours for this key and it has not expired. */
  verify(key: string, expires: string | undefined, signature: string | undefined, now: Date): boolean {
    if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
    if (Number(expires) * 1000 < now.getTime()) return false;
    const expected = Buffer.from(this.signature(key, Number(expires)));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The stored photo a ref names (`media:<tenant>/<name>`), if it is one of ours. */
  static keyOf(ref: string): string | undefined {
    if (!ref.startsWith('media:')) return undefined;
    const key = ref.slice('media:'.length);
    return KEY_PATTERN.test(key) ? key : undefined;
  }

  /**
   * Photos with signed links added to those this gateway stores; the same array when none is
   * (links elsewhere need no signature), so a reader's copy of a ticket is made only when it differs.
   */
  show(photos: ShownPhoto[], now: Date): ShownPhoto[] {
    if (!photos.some((photo) => MediaUrls.keyOf(photo.ref))) return photos;
    return photos.map((photo) => {
      const key = MediaUrls.keyOf(photo.ref);
      return key ? { ...photo, url: this.sign(key, now) } : photo;
    });
  }
}
