import type { FastifyBaseLogger } from 'fastify';
import { decodeTelemetry, parseTopic, type DecodeLimits, type Device } from '@civicloop/model';
import { TtlCache } from '../../store/ttl-cache.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { TelemetryPipeline, TelemetrySource } from '../pipeline.js';

/** The native topics devices publish to, under the shared subscription's group. */
export const sharedTopics = (group: string) => ['position', 'event', 'status'].map((channel) => `$share/${group}/civicloop/+/+/+/${channel}`);

export interface ExternalSubscriberOptions {
  pipeline: TelemetryPipeline;
  devices: DeviceStore;
  counters: TenantCounters;
  limits: DecodeLimits;
  log: FastifyBaseLogger;
  /** How long a device record is reused before it is read again (disabling bites at the broker at once). */
  deviceCacheMs: number;
  /** A device said it is online (a status message): what waits for it can be sent now. */
  onOnline(tenantId: string, device: Device): void;
}

/**
 * The adapter between an external broker's shared subscription and the telemetry pipeline. The
 * broker has already authenticated the device and checked that the topic is its own (mosquitto's
 * dynamic security roles, EMQX's authorization hook), so the native topic says who sent it: only
 * native topics are attributable, which is why only they are subscribed to. OwnTracks and
 * ThingsBoard topics carry no tenant or no device and stay with the embedded broker.
 */
export class ExternalSubscriber {
  private readonly known: TtlCache<Device>;

  constructor(private readonly options: ExternalSubscriberOptions) {
    this.known = new TtlCache(options.deviceCacheMs);
  }

  /** Decodes and stores one message; resolves once it may be acknowledged to the broker, throws when it may not. */
  async handle(topicName: string, payload: Buffer): Promise<void> {
    const { counters, pipeline, limits } = this.options;
    const topic = parseTopic(topicName);
    if (topic?.format !== 'native' || topic.channel === 'cmd') {
      counters.externalUnattributed.notNative++;
      return;
    }
    const device = await this.device(topic.tenantId, topic.deviceId);
    if (!device) {
      counters.externalUnattributed.unknownDevice++;
      return;
    }
    const source: TelemetrySource = { tenantId: topic.tenantId, device, counters: counters.of(topic.tenantId) };
    if (device.kind !== topic.kind) {
      source.counters.deniedPublishes++;
      await pipeline.ingest(source, { type: 'rejected', reason: 'denied_topic', detail: `${device.id} is a ${device.kind}, not a ${topic.kind}` });
      return;
    }
    // Queued at the broker before the device was disabled there.
    if (device.disabled) {
      await pipeline.ingest(source, { type: 'rejected', reason: 'device_disabled', detail: `${device.id} is disabled` });
      return;
    }
    if (payload.length > limits.maxPayloadBytes) {
      await pipeline.ingest(source, { type: 'rejected', reason: 'too_large', detail: `payload of ${payload.length} bytes exceeds ${limits.maxPayloadBytes}` });
      return;
    }
    let decoded;
    try {
      decoded = decodeTelemetry(topic, payload, device, Date.now(), limits);
    } catch (error) {
      this.options.log.warn({ err: error, device: device.id, topic: topicName }, 'telemetry decoder threw');
      decoded = { type: 'rejected', reason: 'decoder_error', detail: 'the decoder could not read this message' } as const;
    }
    await pipeline.ingest(source, decoded);
    if (decoded.type === 'status' && decoded.state === 'online') this.options.onOnline(topic.tenantId, device);
  }

  private async device(tenantId: string, deviceId: string): Promise<Device | undefined> {
    const key = `${tenantId}/${deviceId}`;
    const cached = this.known.get(key);
    if (cached) return cached;
    // Unknown ones are not remembered: a device registered a moment later is not refused for a while.
    const device = await this.options.devices.get(tenantId, deviceId);
    if (device) this.known.set(key, device);
    return device;
  }

  /** A device changed over the HTTP API on this gateway: read it afresh. */
  forget(tenantId: string, deviceId: string): void {
    this.known.delete(`${tenantId}/${deviceId}`);
  }
}
