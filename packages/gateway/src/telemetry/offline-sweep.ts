import type { DeviceStateStore } from '../store/device-state-store.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * Marks devices that went quiet offline; any gateway may run it, it is idempotent. Each pass
 * looks only at devices that crossed the threshold since the previous pass (the first pass, at
 * start-up, at all of them), not at every device that has been quiet for days. Run on the
 * shared PollingLoop, so passes never overlap.
 */
export class OfflineSweep {
  private previousCutoff: number | undefined;

  constructor(
    private readonly tenants: Pick<TenantStore, 'ids'>,
    private readonly devices: DeviceStateStore,
    private readonly offlineSeconds: number,
  ) {}

  async run(): Promise<void> {
    const cutoff = Date.now() - this.offlineSeconds * 1000;
    for (const tenantId of await this.tenants.ids()) {
      await this.devices.markAllOffline(tenantId, await this.devices.lastHeardBetween(tenantId, this.previousCutoff, cutoff));
    }
    this.previousCutoff = cutoff;
  }
}
