import type { BadgeEvent, Device, PositionRecord, Ticket } from '@civicloop/model';
import { calendarDay } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { DeviceStateStore } from '../store/device-state-store.js';
import type { DeviceAlerts } from './device-alerts.js';
import type { WorkforceStats } from '../stats/workforce.js';
import type { Shift } from '../store/fleet-reads.js';

/**
 * What a badge event changes: attendance for check-in and check-out; an SOS, a fall or a low
 * battery is an alert (device-alerts.ts), which for an SOS or a fall opens an urgent ticket.
 */
export class BadgeEventHandler {
  private readonly state: DeviceStateStore;

  constructor(
    private readonly services: Services,
    private readonly alerts: DeviceAlerts,
    private readonly workforce: WorkforceStats,
  ) {
    this.state = new DeviceStateStore(services.redis);
  }

  async handle(tenantId: string, device: Device, event: BadgeEvent, record: PositionRecord | undefined): Promise<{ ticket?: Ticket }> {
    if (event.type === 'check_in') {
      await this.state.checkIn(tenantId, device.id, event.ts);
      await this.workforce.checkedIn(tenantId, device.staffId, new Date(event.ts));
      return {};
    }
    if (event.type === 'check_out') {
      const start = await this.state.onDutySince(tenantId, device.id);
      if (start === undefined) return {};
      const context = await this.services.tenants.context(tenantId);
      const day = calendarDay(new Date(start), context?.tenant.policy.timeZone ?? 'Asia/Shanghai');
      const shift: Shift = {
        deviceId: device.id,
        start,
        end: event.ts,
        ...(device.staffId ? { staffId: device.staffId } : {}),
        ...(device.unitId ? { unitId: device.unitId } : {}),
      };
      await this.state.finishShift(tenantId, day, shift);
      return {};
    }
    const battery = event.battery ?? record?.battery;
    const ticket = await this.alerts.raise(tenantId, device, event.type, event.ts, {
      ...(record ? { position: { lat: record.lat, lon: record.lon } } : {}),
      ...(battery !== undefined ? { battery } : {}),
      ...(event.note ? { note: event.note } : {}),
    });
    return ticket ? { ticket } : {};
  }
}
