import { CivicLoopError, DEFAULT_DECODE_LIMITS } from '@civicloop/model';
import { keepPhoto } from '../../media/keep-photo.js';
import type { MediaStore } from '../../media/media-store.js';
import { DevicePhotoStore } from '../../store/device-photo-store.js';
import type { Redis, Cluster } from 'ioredis';
import type { TelemetryPipeline, TelemetrySource } from '../pipeline.js';
import { toWgs84Record } from '../record-crs.js';
import { decodeLocation } from './location.js';
import { MULTIMEDIA_IMAGE, MULTIMEDIA_JPEG, type MultimediaUpload } from './multimedia.js';

/** Where a photo was taken is read however old its time: a terminal uploads what it kept. */
const ANY_AGE = { ...DEFAULT_DECODE_LIMITS, maxAgeMs: Number.MAX_SAFE_INTEGER };

/**
 * Keeps the photos a terminal's camera uploads (0x0801): each JPEG is processed and stored as an
 * uploaded photo is (EXIF stripped, a thumbnail made, named by its hash) and listed with its
 * device, with why it was taken and where. What the terminal is answered follows: the upload's id
 * (0x8800) once the photo is kept, or once set aside (audio, video, another image format: counted
 * `unused_type`, not kept); a "message error" for a JPEG that cannot be read, which sending again
 * will not mend. Only a failure to store throws (not answered: the terminal sends it again).
 */
export class TerminalPhotos {
  private readonly store: DevicePhotoStore;

  constructor(
    redis: Redis | Cluster,
    private readonly media: MediaStore,
    private readonly pipeline: TelemetryPipeline,
  ) {
    this.store = new DevicePhotoStore(redis);
  }

  async keep(source: TelemetrySource, upload: MultimediaUpload, now: Date): Promise<'kept' | 'set_aside' | 'unreadable'> {
    if (upload.type !== MULTIMEDIA_IMAGE || upload.format !== MULTIMEDIA_JPEG) {
      // Counted as a message there, as every message the pipeline takes is.
      await this.pipeline.ingest(source, {
        type: 'ignored',
        reason: 'unused_type',
        detail: `multimedia of type ${upload.type}, format ${upload.format}: only JPEG photos are kept`,
      });
      return 'set_aside';
    }
    source.counters.messages++;
    let kept;
    try {
      kept = await keepPhoto(this.media, source.tenantId, upload.data);
    } catch (error) {
      if (!(error instanceof CivicLoopError) || (error.code !== 'CL_ERR_MEDIA_TYPE' && error.code !== 'CL_ERR_MEDIA_CORRUPT')) throw error;
      await this.pipeline.refuse(source, 'schema', `multimedia ${upload.id}: ${error.message}`);
      return 'unreadable';
    }
    const decoded = upload.location ? decodeLocation(upload.location, source.device, now.getTime(), ANY_AGE) : undefined;
    // In WGS-84, as every stored position is, whatever system the terminal sends in.
    const { crs } = source.device;
    const fix = decoded?.ok ? (crs && crs !== 'wgs84' ? toWgs84Record(decoded.record, crs) : decoded.record) : undefined;
    await this.store.add(source.tenantId, {
      id: upload.id,
      deviceId: source.device.id,
      channel: upload.channel,
      event: upload.event,
      takenAt: fix ? new Date(fix.fixTime).toISOString() : null,
      position: fix?.valid ? { lat: fix.lat, lon: fix.lon } : null,
      receivedAt: now.toISOString(),
      ref: `media:${kept.key}`,
    });
    source.counters.events++;
    return 'kept';
  }
}
