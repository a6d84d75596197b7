import path from 'node:path';
import { LocalDiskMediaStore, type MediaStore } from './media-store.js';
import { S3MediaStore } from './s3-media-store.js';

/** The media store the configuration asks for: an S3-compatible bucket, or local disk by default. */
export interface MediaStoreSettings {
  dataDir: string;
  mediaDir?: string | undefined;
  mediaS3Endpoint?: string | undefined;
  mediaS3Bucket?: string | undefined;
  mediaS3Region: string;
  mediaS3AccessKeyId?: string | undefined;
  mediaS3SecretAccessKey?: string | undefined;
  mediaS3PathStyle: boolean;
  mediaS3TimeoutMs: number;
}

export function mediaStoreFor(config: MediaStoreSettings): MediaStore {
  if (config.mediaS3Endpoint) {
    return new S3MediaStore({
      endpoint: config.mediaS3Endpoint,
      bucket: config.mediaS3Bucket!,
      region: config.mediaS3Region,
      accessKeyId: config.mediaS3AccessKeyId!,
      secretAccessKey: config.mediaS3SecretAccessKey!,
      pathStyle: config.mediaS3PathStyle,
      timeoutMs: config.mediaS3TimeoutMs,
    });
  }
  return new LocalDiskMediaStore(config.mediaDir ?? path.join(config.dataDir, 'media'));
}
