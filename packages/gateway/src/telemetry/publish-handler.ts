import type { PublishPacket } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { CivicLoopError, decodeTelemetry, parseTopic, type DecodeLimits, type DecodedTelemetry, type Device, type ParsedTopic, type PositionRecord, type TelemetryIgnored } from '@civicloop/model';
import { tenantKeys } from '../redis/keys.js';
import type { Services } from '../services.js';
import type { BadgeEventHandler } from './badge-events.js';
import type { RefusalReason, TelemetryCounters } from './counters.js';
import { UnstorableRecordError, type PositionWriter } from './position-writer.js';

/** Where a refused or ignored publish is sent instead: no device may subscribe to it. */
export const DROPPED_TOPIC = '$civicloop/dropped';

/** An oversized PUBLISH arrives with this payload in place of its body (see connection-guard). */
export const OVERSIZED_MARKER = Buffer.from('\0civicloop:oversized:');

export interface DeviceSession {
  tenantId: string;
  device: Device;
  /** How the device named itself at CONNECT: OwnTracks topics carry it. */
  username: string;
  counters: TelemetryCounters;
  /** The last topic published to and what it was found to be: a device keeps to one or two topics. */
  lastTopic?: { name: string; topic: ParsedTopic } | undefined;
}

export interface PublishHandlerOptions {
  services: Services;
  writer: PositionWriter;
  badgeEvents: BadgeEventHandler;
  limits: DecodeLimits;
  log: FastifyBaseLogger;
  /** Told about each device's freshly stored positions (arrival detection, live map). */
  afterStored: (tenantId: string, device: Device, records: PositionRecord[]) => void;
}

/**
 * What happens to each PUBLISH from an authenticated device, before the broker acknowledges it.
 *
 * A device with a persistent session resends an unacknowledged QoS 1 message after every
 * reconnect, so a message the gateway refuses is acknowledged, dropped and counted, never
 * answered by closing the connection (MQTT 3.1.1 allows exactly that, MQTT-3.3.5-2): otherwise
 * one bad message would lock the device out for good. Only a failure to store a good message
 * (Redis unreachable) throws: then the broker closes the connection without a PUBACK, and the
 * device sends the message again once it reconnects.
 */
export class PublishHandler {
  constructor(private readonly options: PublishHandlerOptions) {}

  async handle(session: DeviceSession, packet: PublishPacket): Promise<void> {
    const { counters } = session;
    counters.messages++;
    // Devices never leave retained messages behind on the broker.
    packet.retain = false;
    const topic = this.judgeTopic(session, packet.topic);
    if (!topic) {
      counters.deniedPublishes++;
      return this.refuse(session, packet, 'denied_topic', `may not publish to ${packet.topic.slice(0, 200)}`);
    }
    const payload = packet.payload as Buffer;
    if (payload.length >= OVERSIZED_MARKER.length && payload.subarray(0, OVERSIZED_MARKER.length).equals(OVERSIZED_MARKER)) {
      return this.refuse(session, packet, 'too_large', `payload of ${payload.subarray(OVERSIZED_MARKER.length).toString()} bytes exceeds ${this.options.limits.maxPayloadBytes}`);
    }
    let decoded: DecodedTelemetry;
    try {
      decoded = decodeTelemetry(topic, payload, session.device, Date.now(), this.options.limits);
    } catch (error) {
      // The decoder is total (a property test says so); should it ever throw, the device still goes on.
      this.options.log.warn({ err: error, device: session.device.id, topic: packet.topic }, 'telemetry decoder threw');
      return this.refuse(session, packet, 'decoder_error', 'the decoder could not read this message');
    }
    switch (decoded.type) {
      case 'rejected':
        return this.refuse(session, packet, decoded.reason, decoded.detail);
      case 'ignored':
        return this.ignore(session, packet, decoded.reason);
      case 'positions':
        await this.storePositions(session, packet, decoded.records);
        return;
      case 'event':
        return this.storeEvent(session, packet, decoded);
      case 'status':
        await this.options.services.redis.hset(tenantKeys(session.tenantId).deviceState(session.device.id), 'online', decoded.state === 'online' ? '1' : '0', 'lastSeen', String(Date.now()));
        return;
    }
  }

  /** What a topic is, if this device may publish to it; remembered for the device's next publish. */
  private judgeTopic(session: DeviceSession, name: string): ParsedTopic | undefined {
    if (session.lastTopic?.name === name) return session.lastTopic.topic;
    const { tenantId, device } = session;
    const topic = parseTopic(name);
    const allowed =
      topic &&
      (topic.format === 'thingsboard' ||
        (topic.format === 'native' && topic.tenantId === tenantId && topic.kind === device.kind && topic.deviceId === device.id) ||
        (topic.format === 'owntracks' && (topic.user === session.username || topic.user === device.id)));
    if (!allowed) return undefined;
    session.lastTopic = { name, topic };
    return topic;
  }

  /** Stores the records; false when the store refused them for good (they are then refused). */
  private async storePositions(session: DeviceSession, packet: PublishPacket, records: PositionRecord[]): Promise<boolean> {
    let stored: boolean[];
    try {
      stored = await this.options.writer.write(session.tenantId, records);
    } catch (error) {
      if (!(error instanceof UnstorableRecordError)) throw error;
      await this.refuse(session, packet, 'unstorable', error.message);
      return false;
    }
    const fresh = records.filter((_, i) => stored[i]);
    session.counters.positionsStored += fresh.length;
    session.counters.duplicates += records.length - fresh.length;
    if (fresh.length > 0) this.options.afterStored(session.tenantId, session.device, fresh);
    return true;
  }

  private async storeEvent(session: DeviceSession, packet: PublishPacket, decoded: Extract<DecodedTelemetry, { type: 'event' }>): Promise<void> {
    const { tenantId, device } = session;
    if (decoded.record && !(await this.storePositions(session, packet, [decoded.record]))) return;
    try {
      await this.options.badgeEvents.handle(tenantId, device, decoded.event, decoded.record);
    } catch (error) {
      // A refusal from the loop itself (a ticket it will not open) is final: resending cannot help.
      if (error instanceof CivicLoopError && !error.retryable) return this.refuse(session, packet, 'refused_by_loop', error.message);
      throw error;
    }
    session.counters.events++;
  }

  private drop(packet: PublishPacket): void {
    packet.topic = DROPPED_TOPIC;
    packet.payload = Buffer.alloc(0);
  }

  private refuse(session: DeviceSession, packet: PublishPacket, reason: RefusalReason, detail: string): Promise<void> {
    session.counters.reject(reason);
    this.drop(packet);
    this.options.log.debug({ device: session.device.id, reason, detail }, 'telemetry refused');
    return this.note(session, 'refused', reason);
  }

  private ignore(session: DeviceSession, packet: PublishPacket, reason: TelemetryIgnored): Promise<void> {
    session.counters.ignore(reason);
    this.drop(packet);
    return this.note(session, 'ignored', reason);
  }

  /**
   * The device's own tally, in its state hash (GET /v1/devices/{id}/state): whoever looks after
   * the device sees that it sends what is refused, and why. Written before the PUBACK, so what a
   * device was told is counted; a failed write loses only the count, never the acknowledgement.
   */
  private async note(session: DeviceSession, kind: 'refused' | 'ignored', reason: string): Promise<void> {
    const key = tenantKeys(session.tenantId).deviceState(session.device.id);
    const { redis } = this.options.services;
    const [count, last, at] = kind === 'refused' ? ['refused', 'lastRefusedReason', 'lastRefusedAt'] : ['ignored', 'lastIgnoredReason', 'lastIgnoredAt'];
    await redis
      .multi()
      .hincrby(key, count, 1)
      .hset(key, last, reason, at, String(Date.now()))
      .exec()
      .catch((error: unknown) => this.options.log.debug({ err: error }, 'could not count a refused publish'));
  }
}
