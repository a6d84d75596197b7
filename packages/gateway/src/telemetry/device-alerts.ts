import type { FastifyBaseLogger } from 'fastify';
import type { DeviceAlert, DeviceAlertType, Device, PositionRecord, Principal, Ticket } from '@civicloop/model';
import { DeviceStateStore, type ActiveAlarms } from '../store/device-state-store.js';
import type { Services } from '../core/services.js';
import type { TicketService } from '../tickets/ticket-service.js';

/** How long an alert's marker stays: a message resent within a week raises nothing again. */
const MARKER_TTL_SECONDS = 7 * 86_400;

/** What every alert says of its device. */
export function alertDeviceFields(device: Device): Pick<DeviceAlert, 'deviceId' | 'deviceKind' | 'deviceName' | 'staffId' | 'unitId'> {
  return {
    deviceId: device.id,
    deviceKind: device.kind,
    deviceName: device.name,
    ...(device.staffId ? { staffId: device.staffId } : {}),
    ...(device.unitId ? { unitId: device.unitId } : {}),
  };
}

/** Writes an alert on the tenant's event stream once per `marker` (see DeviceStateStore.raiseAlertOnce); whether this call wrote it. */
export function writeAlertOnce(state: DeviceStateStore, services: Services, tenantId: string, marker: string, alert: DeviceAlert): Promise<boolean> {
  return state.raiseAlertOnce(tenantId, marker, JSON.stringify(alert), { markerTtlSeconds: MARKER_TTL_SECONDS, streamMaxLen: services.config.streamMaxLen });
}

/**
 * The external id of the ticket an alarm opens, `<sos|fall>:<device>:<time>`: the same alarm
 * redelivered (QoS 1, a terminal resending) must not open a second ticket.
 */
const alarmTicketKey = (type: 'sos' | 'fall', deviceId: string, at: number) => `${type}:${deviceId}:${at}`;

/** The device whose SOS opened a ticket, read back from the ticket's external id, if an SOS did. */
export function sosDeviceOf(ticket: Pick<Ticket, 'externalId'>): string | undefined {
  return /^sos:([^:]+):\d+$/.exec(ticket.externalId ?? '')?.[1];
}

/** The alert an alarm name raises: the three a badge knows by name, any other is a vehicle alarm. */
export function alertTypeOf(alarm: string): DeviceAlertType {
  return alarm === 'sos' || alarm === 'fall' || alarm === 'low_battery' ? alarm : 'alarm';
}

export interface AlertDetails {
  /** Where the device was (WGS-84); absent: its last known position. */
  position?: { lat: number; lon: number };
  battery?: number;
  note?: string;
}

/**
 * What devices raise that someone should see now. An SOS (and a fall, unless the tenant's
 * policy says otherwise) opens an urgent ticket at the device's position; every alert goes on
 * the tenant's event stream, which feeds SSE (`event: device`), webhooks (`device.<type>`) and
 * the console.
 *
 * Terminals such as JT/T 808 ones keep an alarm bit set in every report for as long as the alarm
 * lasts: only an alarm that was not set in the device's previous report raises an alert.
 */
export class DeviceAlerts {
  /** Each device's alarms in its newest report, read from Redis the first time a device is seen. */
  private readonly active = new Map<string, ActiveAlarms>();
  /** How many devices in `active` have an alarm set. */
  private alarmed = 0;
  /** The call each device's next one waits for. */
  private readonly inOrder = new Map<string, Promise<void>>();
  private readonly state: DeviceStateStore;

  constructor(
    private readonly services: Services,
    private readonly tickets: TicketService,
    private readonly log: FastifyBaseLogger,
  ) {
    this.state = new DeviceStateStore(services.redis);
  }

  /**
   * Alarms newly set in a device's fresh records (in fix-time order) raise their alerts. One
   * device's calls run one after another: a terminal with several reports in flight (JT/T 808,
   * MQTT QoS 1) must not have the same onset raised by two of them.
   */
  onPositions(tenantId: string, device: Device, records: PositionRecord[]): Promise<void> | undefined {
    let anyAlarm = false;
    for (const record of records) if (record.alarms.length > 0) anyAlarm = true;
    // Most devices never raise an alarm: nothing to look up or wait for, no promise made, and
    // while no device has an alarm set or a call waiting, not even a key to look them up by.
    if (!anyAlarm && this.inOrder.size === 0 && this.alarmed === 0) return undefined;
    const key = `${tenantId}/${device.id}`;
    const known = this.active.get(key);
    if (!anyAlarm && !this.inOrder.has(key) && (!known || known.alarms.length === 0)) return undefined;
    return this.inTurn(key, tenantId, device, records);
  }

  private remember(key: string, alarms: ActiveAlarms): void {
    if (this.active.get(key)?.alarms.length) this.alarmed--;
    if (alarms.alarms.length > 0) this.alarmed++;
    this.active.set(key, alarms);
  }

  private async inTurn(key: string, tenantId: string, device: Device, records: PositionRecord[]): Promise<void> {
    const run = (this.inOrder.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.watch(key, tenantId, device, records));
    this.inOrder.set(key, run);
    try {
      await run;
    } finally {
      if (this.inOrder.get(key) === run) this.inOrder.delete(key);
    }
  }

  private async watch(key: string, tenantId: string, device: Device, records: PositionRecord[]): Promise<void> {
    let known = this.active.get(key);
    if (!known) {
      if (!records.some((r) => r.alarms.length > 0)) return;
      known = (await this.state.activeAlarms(tenantId, device.id)) ?? { at: 0, alarms: [] };
      this.remember(key, known);
    }
    if (known.alarms.length === 0 && !records.some((r) => r.alarms.length > 0)) return;
    // Blind-area uploads bring older fixes: only what is newer than the last report counts.
    const newer = records.filter((r) => r.fixTime > known.at).sort((a, b) => a.fixTime - b.fixTime);
    if (newer.length === 0) return;
    let previous = new Set(known.alarms);
    for (const record of newer) {
      for (const alarm of record.alarms) {
        if (!previous.has(alarm))
          await this.raise(tenantId, device, alarm, record.fixTime, { position: record, ...(record.battery !== undefined ? { battery: record.battery } : {}) });
      }
      previous = new Set(record.alarms);
    }
    const last = newer[newer.length - 1]!;
    const next: ActiveAlarms = { at: last.fixTime, alarms: last.alarms };
    await this.state.setActiveAlarms(tenantId, device.id, next);
    this.remember(key, next);
  }

  /**
   * Raises one alert: opens its urgent ticket first (idempotent by device and time), then writes
   * the alert once. `at` is the device's time of the alarm, epoch ms.
   */
  async raise(tenantId: string, device: Device, alarm: string, at: number, details: AlertDetails = {}): Promise<Ticket | undefined> {
    const { position, battery, note } = details;
    const type = alertTypeOf(alarm);
    const ticket =
      type === 'sos' || (type === 'fall' && (await this.fallOpensTicket(tenantId)))
        ? await this.openTicket(tenantId, device, type, at, position, note)
        : undefined;
    const alert: DeviceAlert = {
      type,
      ...(type === 'alarm' ? { alarm } : {}),
      ...alertDeviceFields(device),
      at: new Date(at).toISOString(),
      ...(position ? { lat: position.lat, lon: position.lon } : {}),
      ...(battery !== undefined ? { battery } : {}),
      ...(ticket ? { ticketId: ticket.id, ticketNumber: ticket.number } : {}),
    };
    await writeAlertOnce(this.state, this.services, tenantId, `${device.id}:${alarm}:${at}`, alert);
    this.log.info({ device: device.id, alert: type, alarm }, 'device alert');
    return ticket;
  }

  private async fallOpensTicket(tenantId: string): Promise<boolean> {
    const context = await this.services.tenants.context(tenantId);
    return context?.tenant.policy.fallOpensTicket !== false;
  }

  /** An urgent ticket at the device's position (or its last known one); none when it never had one. */
  private async openTicket(
    tenantId: string,
    device: Device,
    type: 'sos' | 'fall',
    at: number,
    position: { lat: number; lon: number } | undefined,
    note: string | undefined,
  ): Promise<Ticket | undefined> {
    const point = position ?? (await this.state.lastPosition(tenantId, device.id));
    if (!point) return undefined;
    const principal: Principal = { tenantId, sub: `device:${device.id}`, role: 'service', name: device.name, via: 'secret_key' };
    const what = type === 'sos' ? 'SOS' : 'Fall detected';
    const worn = device.staffId ? ` (${device.kind === 'badge' ? 'worn' : 'driven'} by ${device.staffId})` : '';
    // `sos:` keys stay as they were before falls opened tickets too.
    const key = alarmTicketKey(type, device.id, at);
    const { ticket } = await this.tickets.create(
      principal,
      {
        category: 'other.worker_sos',
        description: `${what} from ${device.kind} ${device.name}${worn}${note ? `: ${note}` : ''}`,
        location: { lat: point.lat, lon: point.lon, crs: 'wgs84' },
        channel: 'device',
        priority: 'urgent',
        externalId: key,
      },
      { key, fp: key },
    );
    return ticket;
  }
}
