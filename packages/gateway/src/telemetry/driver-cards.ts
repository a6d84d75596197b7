import type { Device } from '@civicloop/model';
import type { Services } from '../core/services.js';
import type { DeviceStore } from '../store/device-store.js';
import { DeviceStateStore } from '../store/device-state-store.js';
import type { DriverOnBoard } from '../store/fleet-reads.js';
import type { BadgeEventHandler } from './badge-events.js';
import type { DriverCard } from './jt808/driver-card.js';

/**
 * What a vehicle terminal's report of a driver's IC card changes (JT/T 808 0x0702, the card a
 * driver puts in when taking the wheel and takes out when leaving it; the standard calls them
 * the driver going on and off duty):
 *
 * - put in and read: the vehicle becomes that of the staff member whose qualification certificate
 *   number the card carries (`staffId`), so an assignment to them reaches this vehicle's screen,
 *   wherever they drove before; they are checked in on it (attendance) from the card's time; its
 *   state shows the driver, by name even when no staff member has the number (then the vehicle
 *   is nobody's: someone else is driving it);
 * - taken out: the vehicle is nobody's, and its state shows no driver.
 *
 * Either way, the shift of whoever was checked in on the vehicle ends at the card's time.
 *
 * A report older than the newest one applied changes nothing: a terminal resends what was not
 * answered, and a late copy must not undo a newer card. A copy of the newest one is applied
 * again, which changes nothing that is in place (and puts in place what a gateway that stopped
 * halfway did not), except that it does not end the shift that report started.
 */
export class DriverCards {
  private readonly state: DeviceStateStore;

  constructor(
    private readonly services: Services,
    private readonly devices: DeviceStore,
    private readonly attendance: BadgeEventHandler,
  ) {
    this.state = new DeviceStateStore(services.redis);
  }

  /** Records the card, ends and starts shifts, and links the vehicle; the device as it now is. */
  async report(tenantId: string, device: Device, card: Exclude<DriverCard, { status: 'unread' }>): Promise<Device> {
    const last = await this.state.lastDriverCard(tenantId, device.id);
    if (last && card.at < last.at) return device;
    const copy = last?.at === card.at && sameCard(card, last.driver);
    if (!copy) await this.attendance.handle(tenantId, device, { type: 'check_out', ts: card.at }, undefined);
    if (card.status === 'removed') {
      await this.state.setDriver(tenantId, device.id, undefined, card.at);
      return this.devices.setDriver(tenantId, device.id, undefined);
    }
    const staff = await this.services.directory.staffByQualification(tenantId, card.qualificationCode);
    const staffId = staff?.active ? staff.id : undefined;
    const driver = { staffId: staffId ?? null, name: card.name, qualificationCode: card.qualificationCode, since: card.at };
    await this.state.setDriver(tenantId, device.id, driver, card.at);
    const linked = await this.devices.setDriver(tenantId, device.id, staffId);
    if (staffId) await this.attendance.handle(tenantId, linked, { type: 'check_in', ts: card.at }, undefined);
    return linked;
  }
}

/** Whether a report is the one that left this driver on board (a copy of it). */
function sameCard(card: Exclude<DriverCard, { status: 'unread' }>, onBoard: DriverOnBoard | undefined): boolean {
  return card.status === 'removed' ? onBoard === undefined : onBoard?.qualificationCode === card.qualificationCode;
}
