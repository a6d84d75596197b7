import path from 'node:path';
import type { GatewayConfig } from '../config.js';
import { LocalDiskMediaStore, type MediaStore } from './media-store.js';
import { S3MediaStore } from './s3-media-store.js';

/** The media store the configuration asks for: an S3-compatible bucket, or local disk by default. */
export function mediaStoreFor(config: GatewayConfig): MediaStore {
  if (config.mediaS3Endpoint) {
    return new S3MediaStore({
      endpoint: config.mediaS3Endpoint,
      bucket: config.mediaS3Bucket!,
      region: config.mediaS3Region,
      accessKeyId: config.mediaS3AccessKeyId!,
      secretAccessKey: config.mediaS3SecretAccessKey!,
      pathStyle: config.mediaS3PathStyle,
    });
  }
  return new LocalDiskMediaStore(config.mediaDir ?? path.join(config.dataDir, 'media'));
}
