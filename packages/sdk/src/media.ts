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

  /** The absolute URL of a photo reference (`media:<tenant>/<name>`) or of an upload's path. */
  url(refOrPath: string): string {
    const path = refOrPath.startsWith('media:') ? `/v1/media/${refOrPath.slice('media:'.length)}` : refOrPath;
    return /^https?:\/\//.test(path) ? path : this.transport.options.baseUrl + path;
  }
}
