import type { DevicePhoto } from '@civicloop/model';
import type { CivicLoop } from '@civicloop/sdk';
import { explain } from './context.js';
import { el } from './dom.js';
import { clockTime } from './labels.js';

const SHOWN = 4;
/** How often, and how long, the panel looks for the photo it asked for: a terminal uploads it within seconds. */
const POLL_MS = 2000;
const WAIT_MS = 60_000;
const EVENT_LABEL: Partial<Record<DevicePhoto['event'], string>> = {
  platform: 'asked 指令拍照',
  timed: 'timed 定时',
  robbery_alarm: 'SOS 报警触发',
  collision: 'collision 碰撞',
};

/**
 * A vehicle's camera under its alarm: the newest photos its JT/T 808 terminal uploaded (read when
 * opened) and, for those who may (dispatchers and admins), a photo asked for now, shown once it
 * comes (the panel looks every two seconds, for a minute). One per device, kept across redraws of
 * the alarm list, so that what is open stays open.
 */
export class VehicleCamera {
  private readonly panels = new Map<string, HTMLDetailsElement>();

  constructor(
    private readonly client: CivicLoop,
    private readonly mayAsk: boolean,
  ) {}

  panel(deviceId: string): HTMLDetailsElement {
    let panel = this.panels.get(deviceId);
    if (!panel) {
      panel = el('details', { class: 'camera', 'data-camera': deviceId }, el('summary', {}, 'Camera 车载摄像头'));
      const details = panel;
      details.addEventListener('toggle', () => {
        if (details.open) void this.show(deviceId, details);
      });
      this.panels.set(deviceId, details);
    }
    return panel;
  }

  /** Reads the newest photos and shows them; what was read (none when it could not be). */
  private async show(deviceId: string, panel: HTMLDetailsElement, status = ''): Promise<DevicePhoto[]> {
    let photos: DevicePhoto[] = [];
    let error = '';
    try {
      photos = await this.client.devices.photos(deviceId, { limit: SHOWN });
    } catch (failure) {
      error = explain(failure);
    }
    this.render(deviceId, panel, photos, error, status);
    return photos;
  }

  private render(deviceId: string, panel: HTMLDetailsElement, photos: DevicePhoto[], error: string, status: string): void {
    const ask = el('button', { type: 'button', 'data-take-photo': deviceId }, 'Take a photo 立即拍照');
    ask.addEventListener('click', () => void this.ask(deviceId, panel, photos[0]?.receivedAt));
    panel.replaceChildren(
      panel.querySelector('summary')!,
      ...(error ? [el('p', { class: 'error', role: 'alert' }, error)] : []),
      photos.length === 0 && !error
        ? el('p', { class: 'muted' }, 'No photos from this vehicle yet. 暂无照片')
        : el(
            'div',
            { class: 'camera-photos' },
            ...photos.map((photo) =>
              el(
                'a',
                { href: this.client.media.url(photo.url), target: '_blank', rel: 'noopener', 'data-photo': String(photo.id) },
                el('img', { src: this.client.media.url(photo.thumbnailUrl), alt: `Camera ${photo.channel} ${clockTime(photo.takenAt ?? photo.receivedAt)}` }),
                el('span', {}, ` ${EVENT_LABEL[photo.event] ?? photo.event} ${clockTime(photo.takenAt ?? photo.receivedAt)}`),
              ),
            ),
          ),
      ...(this.mayAsk ? [ask] : []),
      el('p', { class: 'status', role: 'status' }, status),
    );
  }

  /** Asks for a photo, then looks for one newer than the newest shown until it comes or a minute has passed. */
  private async ask(deviceId: string, panel: HTMLDetailsElement, newestShown: string | undefined): Promise<void> {
    try {
      await this.client.devices.takePhoto(deviceId);
    } catch (failure) {
      await this.show(deviceId, panel, explain(failure));
      return;
    }
    const until = Date.now() + WAIT_MS;
    let photos = await this.show(deviceId, panel, 'Asked; waiting for the photo… 已下发拍照指令，等待上传');
    while (!(photos[0] && photos[0].receivedAt !== newestShown) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      photos = await this.show(deviceId, panel, 'Asked; waiting for the photo… 已下发拍照指令，等待上传');
    }
    // The last read is shown again with how it ended, not read once more.
    const came = photos[0] !== undefined && photos[0].receivedAt !== newestShown;
    this.render(deviceId, panel, photos, '', came ? 'Photo received 已收到照片' : 'No photo within a minute: the terminal may be offline. 一分钟内未收到照片');
  }
}
