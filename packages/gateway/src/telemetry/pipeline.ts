import type { FastifyBaseLogger } from 'fastify';
import { CivicLoopError, type DecodedTelemetry, type Device, type PositionRecord, type TelemetryIgnored } from '@civicloop/model';
import { DeviceStateStore } from '../store/device-state-store.js';
import type { Services } from '../core/services.js';
import type { BadgeEventHandler } from './badge-events.js';
import type { RefusalReason, TelemetryCounters } from './counters.js';
import type { DeviceAlerts } from './device-alerts.js';
import { toWgs84Record } from './record-crs.js';
import { UnstorableRecordError, type PositionWriter } from '../store/position-writer.js';

/** Who sent a message: the authenticated device, whichever way it came in. */
export interface TelemetrySource {
  tenantId: string;
  device: Device;
  counters: TelemetryCounters;
}

/**
 * What became of a message. Every way in acknowledges `accepted` and `ignored` as its protocol
 * says a message was received; `refused` is acknowledged too (a device resending a bad message
 * forever helps nobody) but told apart where the protocol can say so. A failure to store throws
 * instead: then the way in does not acknowledge, and the device sends the message again.
 */
export type IngestOutcome =
  | { type: 'accepted'; stored: number; duplicates: number }
  | { type: 'refused'; reason: RefusalReason; detail: string }
  | { type: 'ignored'; reason: TelemetryIgnored };

export interface PipelineOptions {
  services: Services;
  writer: PositionWriter;
  badgeEvents: BadgeEventHandler;
  alerts: DeviceAlerts;
  log: FastifyBaseLogger;
  /** Told about each device's freshly stored positions (arrival detection, live map), after the acknowledgement. */
  onPositions?: (tenantId: string, device: Device, records: PositionRecord[]) => Promise<void> | void;
}

/** What an adapter hands the pipeline: a decoded message, or its own refusal (a topic not the device's, a frame too large...). */
export type PipelineInput = Exclude<DecodedTelemetry, { type: 'rejected' }> | { type: 'rejected'; reason: RefusalReason; detail: string };

const queueKey = (tenantId: string, deviceId: string) => `${tenantId}/${deviceId}`;

const ACCEPTED_NOTHING: IngestOutcome = { type: 'accepted', stored: 0, duplicates: 0 };

/**
 * The one path every device message takes once an adapter (MQTT native, OwnTracks, ThingsBoard,
 * JT/T 808, OsmAnd HTTP) has authenticated its device and decoded its input: points brought to
 * WGS-84, positions stored (de-duplicated by device and fix time), alarms and badge events
 * acted on, counters and the device's own tally kept, and what stored positions set off run
 * after the acknowledgement. It does not know where a message came from.
 */
export class TelemetryPipeline {
  private readonly deviceQueues = new Map<string, Promise<void>>();

  private readonly deviceState: DeviceStateStore;

  constructor(private readonly options: PipelineOptions) {
    this.deviceState = new DeviceStateStore(options.services.redis);
  }

  // Not async: every message of every device comes through here, and an async function would add
  // a promise and a suspended frame of its own to each (the QoS 1 path's garbage, docs/benchmarks.md).
  ingest(source: TelemetrySource, decoded: PipelineInput): Promise<IngestOutcome> {
    source.counters.messages++;
    switch (decoded.type) {
      case 'rejected':
        return this.refuse(source, decoded.reason, decoded.detail);
      case 'ignored':
        return this.ignore(source, decoded.reason);
      case 'positions':
        return this.storePositions(source, decoded.records, true);
      case 'event':
        return this.storeEvent(source, decoded);
      case 'status':
        return this.deviceState.noteStatus(source.tenantId, source.device.id, decoded.state === 'online', Date.now()).then(() => ACCEPTED_NOTHING);
    }
  }

  // One promise turn, not an async function: see ingest.
  private storePositions(source: TelemetrySource, given: PositionRecord[], watchAlarms: boolean): Promise<IngestOutcome> {
    const records = source.device.crs && source.device.crs !== 'wgs84' ? given.map((r) => toWgs84Record(r, source.device.crs!)) : given;
    return this.options.writer.write(source.tenantId, records).then(
      (stored) => {
        const fresh = stored.includes(false) ? records.filter((_, i) => stored[i]) : records;
        source.counters.positionsStored += fresh.length;
        source.counters.duplicates += records.length - fresh.length;
        const outcome: IngestOutcome = { type: 'accepted', stored: fresh.length, duplicates: records.length - fresh.length };
        const settle = () => {
          if (fresh.length > 0) this.afterStored(source.tenantId, source.device, fresh);
          return outcome;
        };
        // Alarms are acted on before the acknowledgement: an SOS must not be lost with a crash.
        const alerting = watchAlarms ? this.options.alerts.onPositions(source.tenantId, source.device, fresh) : undefined;
        return alerting ? alerting.then(settle) : settle();
      },
      (error: unknown) => {
        if (!(error instanceof UnstorableRecordError)) throw error;
        return this.refuse(source, 'unstorable', error.message);
      },
    );
  }

  private async storeEvent(source: TelemetrySource, decoded: Extract<DecodedTelemetry, { type: 'event' }>): Promise<IngestOutcome> {
    const { tenantId, device } = source;
    let record = decoded.record;
    if (record) {
      const outcome = await this.storePositions(source, [record], false);
      if (outcome.type === 'refused') return outcome;
      if (device.crs && device.crs !== 'wgs84') record = toWgs84Record(record, device.crs);
    }
    try {
      await this.options.badgeEvents.handle(tenantId, device, decoded.event, record);
    } catch (error) {
      // A refusal from the loop itself (a ticket it will not open) is final: resending cannot help.
      if (error instanceof CivicLoopError && !error.retryable) return this.refuse(source, 'refused_by_loop', error.message);
      throw error;
    }
    source.counters.events++;
    return ACCEPTED_NOTHING;
  }

  refuse(source: TelemetrySource, reason: RefusalReason, detail: string): Promise<IngestOutcome> {
    source.counters.reject(reason);
    this.options.log.debug({ device: source.device.id, reason, detail }, 'telemetry refused');
    return this.note(source, 'refused', reason).then(() => ({ type: 'refused', reason, detail }));
  }

  private ignore(source: TelemetrySource, reason: TelemetryIgnored): Promise<IngestOutcome> {
    source.counters.ignore(reason);
    return this.note(source, 'ignored', reason).then(() => ({ type: 'ignored', reason }));
  }

  /**
   * The device's own tally, in its state hash (GET /v1/devices/{id}/state): whoever looks after
   * the device sees that it sends what is refused, and why. Written before the acknowledgement,
   * so what a device was told is counted; a failed write loses only the count.
   */
  private async note(source: TelemetrySource, kind: 'refused' | 'ignored', reason: string): Promise<void> {
    await this.deviceState
      .noteUnused(source.tenantId, source.device.id, kind, reason, Date.now())
      .catch((error: unknown) => this.options.log.debug({ err: error }, 'could not count a refused message'));
  }

  /**
   * What stored positions set off (arrival detection) runs after the acknowledgement, not before:
   * the fix is already safe in Redis, and the device should not wait for the loop to react to it.
   * A device's hooks run one after another, in the order its messages arrived, since arrival
   * detection reasons about a sequence of fixes.
   */
  private afterStored(tenantId: string, device: Device, records: PositionRecord[]): void {
    const hook = this.options.onPositions;
    if (!hook) return;
    // Most devices never have a queue: while none has, no key is made to look for one.
    const previous = this.deviceQueues.size > 0 ? this.deviceQueues.get(queueKey(tenantId, device.id)) : undefined;
    let started: Promise<void> | void;
    if (previous) started = previous.then(() => hook(tenantId, device, records));
    else {
      try {
        started = hook(tenantId, device, records);
      } catch (error) {
        started = Promise.reject(error);
      }
      // Most positions set nothing off (a vehicle's, a badge with no job): no queue for those.
      if (!started) return;
    }
    const key = queueKey(tenantId, device.id);
    const run: Promise<void> = started
      .catch((error: unknown) => this.options.log.warn({ err: error, device: device.id }, 'position hook failed'))
      .finally(() => {
        if (this.deviceQueues.get(key) === run) this.deviceQueues.delete(key);
      });
    this.deviceQueues.set(key, run);
  }

  /** Resolves when what stored positions set off has finished. */
  async settled(): Promise<void> {
    while (this.deviceQueues.size > 0) await Promise.all([...this.deviceQueues.values()]);
  }
}
