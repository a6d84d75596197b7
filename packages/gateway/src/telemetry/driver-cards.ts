import type { Device } from '@civicloop/model';
import type { Services } from '../core/services.js';
import type { DeviceStore } from '../store/device-store.js';
import { DeviceStateStore } from '../store/device-state-store.js';
import type { DriverCard } from './jt808/driver-card.js';

/**
 * What a vehicle terminal's report of a driver's IC card changes (JT/T 808 0x0702, the card a
 * driver puts in when taking the wheel and takes out when leaving it):
 *
 * - put in and read: the vehicle becomes that of the staff member whose qualification certificate
 *   number the card carries (`staffId`), so an assignment to them reaches this vehicle's screen,
 *   wherever they drove before; its state shows the driver, by name even when no staff member
 *   has the number (then the vehicle is nobody's: someone else is driving it);
 * - taken out: the vehicle is nobody's, and its state shows no driver.
 *
 * A report older than the newest one applied (a card put in or taken out) changes nothing: a
 * terminal resends what was not answered, and a late copy must not undo a newer card.
 */
export class DriverCards {
  private readonly state: DeviceStateStore;

  constructor(
    private readonly services: Services,
    private readonly devices: DeviceStore,
  ) {
    this.state = new DeviceStateStore(services.redis);
  }

  /** Records the card and links the vehicle; the device as it now is. */
  async report(tenantId: string, device: Device, card: Exclude<DriverCard, { status: 'unread' }>): Promise<Device> {
    const newest = await this.state.driverCardAt(tenantId, device.id);
    if (newest !== undefined && card.at < newest) return device;
    if (card.status === 'removed') {
      await this.state.setDriver(tenantId, device.id, undefined, card.at);
      return this.devices.setDriver(tenantId, device.id, undefined);
    }
    const staff = await this.services.directory.staffByQualification(tenantId, card.qualificationCode);
    const staffId = staff?.active ? staff.id : undefined;
    const driver = { staffId: staffId ?? null, name: card.name, qualificationCode: card.qualificationCode, since: card.at };
    await this.state.setDriver(tenantId, device.id, driver, card.at);
    return this.devices.setDriver(tenantId, device.id, staffId);
  }
}
