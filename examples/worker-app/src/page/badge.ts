import type { DeviceClient } from '@civicloop/sdk/device';

interface BadgeCredential {
  deviceId: string;
  tenantId: string;
  username: string;
  password: string;
  url: string;
}

export type BadgeState = 'off-duty' | 'on-duty' | 'no-location';

const credentialKey = (worker: string) => `civicloop-badge:${worker}`;
const dutyKey = (worker: string) => `civicloop-duty:${worker}`;

/**
 * The worker's phone as their badge, over the gateway's MQTT (WebSocket) like any badge: check in
 * and out, and while on duty the phone's positions, from which the gateway marks arrival on site
 * and suggests the worker for nearby jobs. Positions are sent only while on duty. The MQTT client
 * (and its library) loads only once the worker is on duty; what it cannot send offline it keeps
 * and sends in order on reconnect.
 */
export class PhoneBadge {
  private client: DeviceClient | undefined;
  private watch: number | undefined;
  private reprovisioned = false;

  constructor(
    private readonly worker: string,
    private readonly onState: (state: BadgeState) => void,
  ) {}

  get onDuty(): boolean {
    return localStorage.getItem(dutyKey(this.worker)) === 'on';
  }

  /** Picks up where the app was left: on duty stays on duty across reloads. */
  async resume(): Promise<void> {
    if (this.onDuty) await this.connect();
    this.onState(this.onDuty ? 'on-duty' : 'off-duty');
  }

  async checkIn(): Promise<void> {
    localStorage.setItem(dutyKey(this.worker), 'on');
    const client = await this.connect();
    void client.publishEvent({ type: 'check_in' }).catch(() => undefined);
    this.onState('on-duty');
  }

  async checkOut(): Promise<void> {
    localStorage.setItem(dutyKey(this.worker), 'off');
    this.stopWatching();
    void this.client?.publishEvent({ type: 'check_out' }).catch(() => undefined);
    this.onState('off-duty');
  }

  private async credential(): Promise<BadgeCredential> {
    const stored = localStorage.getItem(credentialKey(this.worker));
    if (stored) return JSON.parse(stored) as BadgeCredential;
    const response = await fetch('/phone-badge', { method: 'POST', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the phone could not be made a badge (${response.status})`);
    const fresh = (await response.json()) as BadgeCredential;
    localStorage.setItem(credentialKey(this.worker), JSON.stringify(fresh));
    return fresh;
  }

  private async connect(): Promise<DeviceClient> {
    if (this.client) {
      this.startWatching();
      return this.client;
    }
    const [credential, { connectDevice }] = await Promise.all([this.credential(), import('@civicloop/sdk/device')]);
    const client = connectDevice({
      url: credential.url,
      tenantId: credential.tenantId,
      kind: 'badge',
      deviceId: credential.deviceId,
      username: credential.username,
      password: credential.password,
      bufferLimit: 2000,
      mqtt: { reconnectPeriod: 3000 },
    });
    client.on('error', (error) => {
      // The credential was rotated (the worker signed in on another phone) or the badge removed:
      // ask for a fresh one, once; after that the error stands until the app is reopened.
      if (/not authori[sz]ed|bad user ?name or password/i.test(error.message) && !this.reprovisioned) {
        this.reprovisioned = true;
        localStorage.removeItem(credentialKey(this.worker));
        this.client = undefined;
        void client.close();
        if (this.onDuty) void this.connect();
      }
    });
    this.client = client;
    this.startWatching();
    return client;
  }

  private startWatching(): void {
    if (this.watch !== undefined || !navigator.geolocation) return;
    this.watch = navigator.geolocation.watchPosition(
      (fix) => {
        this.onState('on-duty');
        void this.client
          ?.publishPosition({
            ts: fix.timestamp,
            lat: fix.coords.latitude,
            lon: fix.coords.longitude,
            accuracy: fix.coords.accuracy,
            ...(fix.coords.speed !== null ? { speed: fix.coords.speed * 3.6 } : {}),
            ...(fix.coords.heading !== null && !Number.isNaN(fix.coords.heading) ? { course: fix.coords.heading } : {}),
          })
          .catch(() => undefined);
      },
      () => this.onState('no-location'),
      { enableHighAccuracy: true, maximumAge: 10_000 },
    );
  }

  private stopWatching(): void {
    if (this.watch !== undefined) navigator.geolocation.clearWatch(this.watch);
    this.watch = undefined;
  }
}
