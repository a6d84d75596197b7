import type { BadgeEvent, Device, PositionRecord, Principal, Ticket } from '@civicloop/model';
import { calendarDay } from '@civicloop/model';
import type { Services } from '../services.js';
import { tenantKeys } from '../redis/keys.js';
import type { TicketService } from '../tickets/ticket-service.js';
import type { WorkforceStats } from '../stats/workforce.js';

export interface Shift {
  deviceId: string;
  staffId?: string;
  unitId?: string;
  start: number;
  end: number;
}

/** What a badge event changes: attendance for check-in/out, an urgent ticket for an SOS. */
export class BadgeEventHandler {
  constructor(
    private readonly services: Services,
    private readonly tickets: TicketService,
    private readonly workforce: WorkforceStats,
  ) {}

  async handle(tenantId: string, device: Device, event: BadgeEvent, record: PositionRecord | undefined): Promise<{ ticket?: Ticket }> {
    const keys = tenantKeys(tenantId);
    const { redis } = this.services;
    await redis.xadd(keys.deviceEvents, 'MAXLEN', '~', '100000', '*', 'd', device.id, 'e', JSON.stringify(event));
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
      const shift: Shift = { deviceId: device.id, start: Number(start), end: event.ts, ...(device.staffId ? { staffId: device.staffId } : {}), ...(device.unitId ? { unitId: device.unitId } : {}) };
      await redis.rpush(keys.shifts(day), JSON.stringify(shift));
      await redis.hdel(keys.onDuty, device.id);
      return {};
    }
    if (event.type === 'sos') return { ticket: await this.sos(tenantId, device, event, record) };
    return {};
  }

  /** An SOS becomes an urgent ticket at the badge's position (or its last known one). */
  private async sos(tenantId: string, device: Device, event: BadgeEvent, record: PositionRecord | undefined): Promise<Ticket | undefined> {
    let lat = record?.lat;
    let lon = record?.lon;
    if (lat === undefined || lon === undefined) {
      const last = await this.services.redis.hget(tenantKeys(tenantId).deviceState(device.id), 'position');
      if (last) ({ lat, lon } = JSON.parse(last) as PositionRecord);
    }
    if (lat === undefined || lon === undefined) return undefined;
    const principal: Principal = { tenantId, sub: `device:${device.id}`, role: 'service', name: device.name, via: 'secret_key' };
    const { ticket } = await this.tickets.create(
      principal,
      {
        category: 'other.worker_sos',
        description: `SOS from badge ${device.name}${device.staffId ? ` (worn by ${device.staffId})` : ''}${event.note ? `: ${event.note}` : ''}`,
        location: { lat, lon },
        channel: 'device',
        priority: 'urgent',
        externalId: `sos:${device.id}:${event.ts}`,
      },
      // The same SOS redelivered (QoS 1) must not open a second ticket.
      { key: `sos:${device.id}:${event.ts}`, fp: `sos:${device.id}:${event.ts}` },
    );
    return ticket;
  }
}
