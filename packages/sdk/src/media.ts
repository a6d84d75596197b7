import type { RequestOptions, Transport } from './transport.js';

/** A stored photo, as POST /v1/media returns it. Put `ref` in a ticket's `photos`. */
export interface UploadedPhoto {
  ref: string;
  /** Path on the gateway; join with baseUrl (Media.url does). */
  url: string;
  thumbnailUrl: string;
  contentType: string;
  width: number;
  height: number;
  bytes: number;
}

/** Photo evidence. The gateway recognises the format by its bytes and strips EXIF. */
export class Media {
  constructor(private readonly transport: Transport) {}

  /** Uploads one image. The same bytes uploaded twice are stored once (content-addressed). */
  upload(file: Blob, filename = 'photo.jpg', options?: RequestOptions): Promise<UploadedPhoto> {
    const form = new FormData();
    form.append('file', file, filename);
    return this.transport.request({ method: 'POST', path: '/v1/media', body: form, ...(options ? { options } : {}) });
  }

  /**
   * The absolute URL of a photo: pass a ticket's photo (its signed `url` is used: a stored photo
   * of a ticket that is not published needs it), an upload's path, or a bare reference
   * (`media:<tenant>/<name>`, which works without credentials only for published tickets).
   */
  url(photo: string | { ref: string; url?: string | undefined }): string {
    const refOrPath = typeof photo === 'string' ? photo : (photo.url ?? photo.ref);
    const path = refOrPath.startsWith('media:') ? `/v1/media/${refOrPath.slice('media:'.length)}` : refOrPath;
    return /^https?:\/\//.test(path) ? path : this.transport.options.baseUrl + path;
  }
}
