import type { BadgeEvent, Device, PositionRecord, Ticket } from '@civicloop/model';
import { calendarDay } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { tenantKeys } from '../redis/keys.js';
import type { DeviceAlerts } from './device-alerts.js';
import type { WorkforceStats } from '../stats/workforce.js';
import type { Shift } from '../store/fleet-reads.js';

/**
 * What a badge event changes: attendance for check-in and check-out; an SOS, a fall or a low
 * battery is an alert (device-alerts.ts), which for an SOS or a fall opens an urgent ticket.
 */
export class BadgeEventHandler {
  constructor(
    private readonly services: Services,
    private readonly alerts: DeviceAlerts,
    private readonly workforce: WorkforceStats,
  ) {}

  async handle(tenantId: string, device: Device, event: BadgeEvent, record: PositionRecord | undefined): Promise<{ ticket?: Ticket }> {
    const keys = tenantKeys(tenantId);
    const { redis } = this.services;
    if (event.type === 'check_in') {
      await redis.hset(keys.onDuty, device.id, String(event.ts));
      await this.workforce.checkedIn(tenantId, device.staffId, new Date(event.ts));
      return {};
    }
    if (event.type === 'check_out') {
      const start = await redis.hget(keys.onDuty, device.id);
      if (start === null) return {};
      const context = await this.services.tenants.context(tenantId);
      const day = calendarDay(new Date(Number(start)), context?.tenant.policy.timeZone ?? 'Asia/Shanghai');
      const shift: Shift = {
        deviceId: device.id,
        start: Number(start),
        end: event.ts,
        ...(device.staffId ? { staffId: device.staffId } : {}),
        ...(device.unitId ? { unitId: device.unitId } : {}),
      };
      await redis.rpush(keys.shifts(day), JSON.stringify(shift));
      await redis.hdel(keys.onDuty, device.id);
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
