import { calendarDay, type Staff } from '@civicloop/model';
import type { Services } from '../core/services.js';
import { WorkforceStore } from '../store/workforce-store.js';
import { NONE } from './attribution.js';

/** Workers counted for attendance: active staff with the worker role and a unit. */
const rostered = (person: Staff | undefined): person is Staff & { unitId: string } => !!person && person.active && person.role === 'worker' && !!person.unitId;

/**
 * Attendance coverage and vehicle online rate, kept per day and unit (tenant time zone) in
 * `stats:workforce:<day>`: workers present (checked in that day, or on duty at a sample), the
 * roster (the most workers the unit had that day), and vehicle samples taken every
 * FLEET_SAMPLE_SECONDS with how many of them found the vehicle online.
 */
export class WorkforceStats {
  private readonly store: WorkforceStore;

  constructor(private readonly services: Services) {
    this.store = new WorkforceStore(services.redis);
  }

  private async dayOf(tenantId: string, at: Date): Promise<string> {
    const context = await this.services.tenants.context(tenantId);
    return calendarDay(at, context?.tenant.policy.timeZone ?? 'Asia/Shanghai');
  }

  /** A badge checked in: its wearer, when a rostered worker, is present on the day of the check-in. */
  async checkedIn(tenantId: string, staffId: string | undefined, at: Date): Promise<void> {
    if (!staffId) return;
    const person = await this.services.directory.getStaff(tenantId, staffId);
    if (!rostered(person)) return;
    await this.store.markPresent(tenantId, await this.dayOf(tenantId, at), [[person.unitId, person.id]]);
  }

  /**
   * Takes the sample of the FLEET_SAMPLE_SECONDS slot `at` falls in, unless a gateway already
   * took it (each slot is claimed atomically). Returns whether this call took it.
   */
  async sample(tenantId: string, at: Date): Promise<boolean> {
    const { config, directory, devices } = this.services;
    const slotMs = config.fleetSampleSeconds * 1000;
    const slot = Math.floor(at.getTime() / slotMs);
    if (!(await this.store.claimSampleSlot(tenantId, slot, 2 * slotMs))) return false;
    const day = await this.dayOf(tenantId, at);
    const [staff, allDevices, onDuty] = await Promise.all([directory.listStaff(tenantId), devices.list(tenantId), this.store.onDutyDevices(tenantId)]);
    const workers = staff.filter(rostered);
    const roster = new Map<string, number>();
    for (const person of workers) roster.set(person.unitId, (roster.get(person.unitId) ?? 0) + 1);

    // Someone still on duty from a shift that began on an earlier day is present today too.
    const byStaffId = new Map(workers.map((person) => [person.id, person]));
    const wearers = new Map(allDevices.map((device) => [device.id, device.staffId]));
    const present = onDuty.flatMap((deviceId) => {
      const person = byStaffId.get(wearers.get(deviceId) ?? '');
      return person ? [[person.unitId, person.id] as [string, string]] : [];
    });

    const vehicles = allDevices.filter((device) => device.kind === 'vehicle' && !device.disabled);
    const online = await this.store.online(
      tenantId,
      vehicles.map((v) => v.id),
    );
    const fleet = new Map<string, [samples: number, online: number]>();
    vehicles.forEach((vehicle, i) => {
      const unit = vehicle.unitId ?? NONE;
      const [samples, up] = fleet.get(unit) ?? [0, 0];
      fleet.set(unit, [samples + 1, up + (online[i] ? 1 : 0)]);
    });
    await this.store.addSample(tenantId, day, roster, fleet);
    await this.store.markPresent(tenantId, day, present);
    return true;
  }
}

export interface WorkforceSums {
  present: number;
  roster: number;
  vehicleSamples: number;
  vehiclesOnline: number;
}

/** The measures a workforce hash field counts, by field name prefix. */
export const WORKFORCE_MEASURES = ['present', 'roster', 'vehicleSamples', 'vehiclesOnline'] as const;

export function readWorkforceField(field: string): { measure: keyof WorkforceSums; unit: string } | undefined {
  const [measure, unit] = field.split('|') as [string, string | undefined];
  return unit !== undefined && (WORKFORCE_MEASURES as readonly string[]).includes(measure) ? { measure: measure as keyof WorkforceSums, unit } : undefined;
}
