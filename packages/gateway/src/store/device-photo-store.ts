import type { Cluster, Redis } from 'ioredis';
import type { DevicePhoto } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';

/** A device's photo as kept: what is shown, less the signed links, which are made for each reader. */
export type KeptPhoto = Omit<DevicePhoto, 'url' | 'thumbnailUrl'>;

/** How many photos a device keeps listed: older ones drop off the list (the stored photo stays). */
export const PHOTOS_KEPT = 100;

/** The photos each device's camera uploaded, newest first. */
export class DevicePhotoStore {
  constructor(private readonly redis: Redis | Cluster) {}

  /**
   * Lists a photo, unless the device listed it already (the same multimedia id and stored photo:
   * an upload sent again after its answer was lost). Returns whether it is new.
   */
  async add(tenantId: string, photo: KeptPhoto): Promise<boolean> {
    const key = tenantKeys(tenantId).devicePhotos(photo.deviceId);
    const listed = (await this.redis.lrange(key, 0, PHOTOS_KEPT - 1)).map((raw) => JSON.parse(raw) as KeptPhoto);
    if (listed.some((kept) => kept.id === photo.id && kept.ref === photo.ref)) return false;
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(photo))
      .ltrim(key, 0, PHOTOS_KEPT - 1)
      .exec();
    return true;
  }

  async list(tenantId: string, deviceId: string, limit = PHOTOS_KEPT): Promise<KeptPhoto[]> {
    return (await this.redis.lrange(tenantKeys(tenantId).devicePhotos(deviceId), 0, limit - 1)).map((raw) => JSON.parse(raw) as KeptPhoto);
  }
}
