import type { FastifyBaseLogger } from 'fastify';
import { decodeTelemetry, parseTopic, type DecodeLimits, type Device, type ParsedTopic } from '@civicloop/model';
import { ownTracksOpener } from '../../auth/owntracks-key.js';
import { TtlCache } from '../../store/ttl-cache.js';
import { parseBrokerAccountName } from './account-name.js';
import type { TenantCounters } from '../counters.js';
import type { DeviceStore } from '../../store/device-store.js';
import type { TelemetryPipeline, TelemetrySource } from '../pipeline.js';

/**
 * What devices publish to, under the shared subscription's group: the native topics, and the
 * OwnTracks app's location (and last will) and transition topics. Not `owntracks/+/+/+`: the
 * gateways publish phones' commands on `owntracks/<user>/<device>/cmd`, and the app's other
 * sub-topics (waypoints, status...) are of no use here.
 */
export const sharedTopics = (group: string) => [
  ...['position', 'event', 'status'].map((channel) => `$share/${group}/civicloop/+/+/+/${channel}`),
  `$share/${group}/owntracks/+/+`,
  `$share/${group}/owntracks/+/+/event`,
];

/** Who a topic says sent it; undefined for a topic that names no device a gateway could find. */
function senderOf(topic: ParsedTopic | undefined): { tenantId: string; deviceId: string; kind?: Device['kind'] } | undefined {
  if (topic?.format === 'native' && topic.channel !== 'cmd') return { tenantId: topic.tenantId, deviceId: topic.deviceId, kind: topic.kind };
  if (topic?.format === 'owntracks' && (topic.channel === 'location' || topic.channel === 'event')) return parseBrokerAccountName(topic.user);
  return undefined;
}

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
  /** An OwnTracks phone was heard from: a location request that found it away can be sent now. */
  onOwnTracks(tenantId: string, device: Device): void;
}

interface KnownDevice {
  device: Device;
  /** The key that opens its encrypted OwnTracks messages, if it has one. */
  ownTracksKey?: Uint8Array;
}

/**
 * The adapter between an external broker's shared subscription and the telemetry pipeline. The
 * broker has already authenticated the device and checked that the topic is its own (mosquitto's
 * dynamic security roles, EMQX's authorization hook), so the topic says who sent it: a native
 * topic names the tenant and the device, an OwnTracks topic's user is the phone's account name
 * (`<tenant>.<device>`). ThingsBoard topics name no device and stay with the embedded broker.
 */
export class ExternalSubscriber {
  private readonly known: TtlCache<KnownDevice>;

  constructor(private readonly options: ExternalSubscriberOptions) {
    this.known = new TtlCache(options.deviceCacheMs);
  }

  /** Decodes and stores one message; resolves once it may be acknowledged to the broker, throws when it may not. */
  async handle(topicName: string, payload: Buffer): Promise<void> {
    const { counters, pipeline, limits } = this.options;
    const topic = parseTopic(topicName);
    const sender = senderOf(topic);
    if (!topic || !sender) {
      counters.externalUnattributed.notNative++;
      return;
    }
    const known = await this.device(sender.tenantId, sender.deviceId);
    if (!known) {
      counters.externalUnattributed.unknownDevice++;
      return;
    }
    const { device } = known;
    const source: TelemetrySource = { tenantId: sender.tenantId, device, counters: counters.of(sender.tenantId) };
    if (sender.kind && device.kind !== sender.kind) {
      source.counters.deniedPublishes++;
      await pipeline.ingest(source, { type: 'rejected', reason: 'denied_topic', detail: `${device.id} is a ${device.kind}, not a ${sender.kind}` });
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
      decoded = decodeTelemetry(topic, payload, device, Date.now(), limits, known.ownTracksKey && ownTracksOpener(known.ownTracksKey));
    } catch (error) {
      this.options.log.warn({ err: error, device: device.id, topic: topicName }, 'telemetry decoder threw');
      decoded = { type: 'rejected', reason: 'decoder_error', detail: 'the decoder could not read this message' } as const;
    }
    await pipeline.ingest(source, decoded);
    if (decoded.type === 'status' && decoded.state === 'online') this.options.onOnline(sender.tenantId, device);
    if (topic.format === 'owntracks' && decoded.type === 'positions') this.options.onOwnTracks(sender.tenantId, device);
  }

  private async device(tenantId: string, deviceId: string): Promise<KnownDevice | undefined> {
    const key = `${tenantId}/${deviceId}`;
    const cached = this.known.get(key);
    if (cached) return cached;
    // Unknown ones are not remembered: a device registered a moment later is not refused for a while.
    const device = await this.options.devices.get(tenantId, deviceId);
    if (!device) return undefined;
    const ownTracksKey = device.ownTracksEncryption ? await this.options.devices.ownTracksKey(tenantId, deviceId) : undefined;
    const known = ownTracksKey ? { device, ownTracksKey } : { device };
    this.known.set(key, known);
    return known;
  }

  /** A device changed over the HTTP API on this gateway: read it afresh. */
  forget(tenantId: string, deviceId: string): void {
    this.known.delete(`${tenantId}/${deviceId}`);
  }
}
