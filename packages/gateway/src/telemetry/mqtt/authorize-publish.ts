import type { PublishPacket } from 'aedes';
import { decodeTelemetry, parseTopic, type DecodeLimits, type ParsedTopic } from '@civicloop/model';
import { ownTracksOpener } from '../../auth/owntracks-key.js';
import type { FastifyBaseLogger } from 'fastify';
import type { IngestOutcome, PipelineInput, TelemetryPipeline, TelemetrySource } from '../pipeline.js';

/** Where a refused or ignored publish is sent instead: no device may subscribe to it. */
export const DROPPED_TOPIC = '$civicloop/dropped';

/** An oversized PUBLISH arrives with this payload in place of its body (see connection-guard). */
export const OVERSIZED_MARKER = Buffer.from('\0civicloop:oversized:');

/** An authenticated MQTT client, as the pipeline and the topic rules know it. */
export interface DeviceSession extends TelemetrySource {
  /** How the device named itself at CONNECT: OwnTracks topics carry it. */
  username: string;
  /** The last topic published to and what it was found to be: a device keeps to one or two topics. */
  lastTopic?: { name: string; topic: ParsedTopic } | undefined;
  /**
   * The device's OwnTracks encryption key when it logged in, if it has one: its encrypted messages
   * are opened with it, and what is sent to the app is sealed with it.
   */
  ownTracksKey?: Uint8Array | undefined;
}

/**
 * aedes' authorizePublish: the MQTT adapter of the telemetry pipeline. It checks the topic is
 * the device's own, decodes the payload by the topic's format (native, OwnTracks, ThingsBoard)
 * and hands the result to the pipeline before the broker acknowledges the message.
 *
 * A device with a persistent session resends an unacknowledged QoS 1 message after every
 * reconnect, so a message the gateway refuses is acknowledged, dropped and counted, never
 * answered by closing the connection (MQTT 3.1.1 allows exactly that, MQTT-3.3.5-2): otherwise
 * one bad message would lock the device out for good. Only a failure to store a good message
 * (Redis unreachable) throws: then the broker closes the connection without a PUBACK, and the
 * device sends the message again once it reconnects.
 */
export class AuthorizePublish {
  constructor(
    private readonly pipeline: TelemetryPipeline,
    private readonly limits: DecodeLimits,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Calls back once the message is stored (or refused and dropped), or with the error that kept it from being stored. */
  handle(session: DeviceSession, packet: PublishPacket, done: (error: Error | null) => void): void {
    // Devices never leave retained messages behind on the broker.
    packet.retain = false;
    // One promise turn per message, not an async function's own promise and frame besides.
    let ingesting: Promise<IngestOutcome>;
    try {
      ingesting = this.pipeline.ingest(session, this.decode(session, packet));
    } catch (error) {
      // Should the pipeline ever throw before its promise, the broker still hears back (and closes).
      return done(asError(error));
    }
    ingesting.then(
      (outcome) => {
        if (outcome.type !== 'accepted') drop(packet);
        done(null);
      },
      (error: unknown) => done(asError(error)),
    );
  }

  private decode(session: DeviceSession, packet: PublishPacket): PipelineInput {
    const topic = judgeTopic(session, packet.topic);
    if (!topic) {
      session.counters.deniedPublishes++;
      return { type: 'rejected', reason: 'denied_topic', detail: `may not publish to ${packet.topic.slice(0, 200)}` };
    }
    const payload = packet.payload as Buffer;
    // The first byte first: a payload that is not the marker costs no slice.
    if (payload[0] === 0 && payload.length >= OVERSIZED_MARKER.length && payload.subarray(0, OVERSIZED_MARKER.length).equals(OVERSIZED_MARKER)) {
      return {
        type: 'rejected',
        reason: 'too_large',
        detail: `payload of ${payload.subarray(OVERSIZED_MARKER.length).toString()} bytes exceeds ${this.limits.maxPayloadBytes}`,
      };
    }
    try {
      return decodeTelemetry(topic, payload, session.device, Date.now(), this.limits, session.ownTracksKey && ownTracksOpener(session.ownTracksKey));
    } catch (error) {
      // The decoder is total (a property test says so); should it ever throw, the device still goes on.
      this.log.warn({ err: error, device: session.device.id, topic: packet.topic }, 'telemetry decoder threw');
      return { type: 'rejected', reason: 'decoder_error', detail: 'the decoder could not read this message' };
    }
  }
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

function drop(packet: PublishPacket): void {
  packet.topic = DROPPED_TOPIC;
  packet.payload = Buffer.alloc(0);
}

/** What a topic is, if this device may publish to it; remembered for the device's next publish. */
function judgeTopic(session: DeviceSession, name: string): ParsedTopic | undefined {
  if (session.lastTopic?.name === name) return session.lastTopic.topic;
  const topic = ownTopic(session, name);
  if (topic) session.lastTopic = { name, topic };
  return topic;
}

/**
 * What a topic is, if it is one of the device's own: its native topics, OwnTracks topics under
 * the name it logged in with (or its id), ThingsBoard's `v1/devices/me/...`. (An external
 * broker's rules are mosquitto's roles and the EMQX hooks: external/account-name.ts.)
 */
function ownTopic(session: Pick<DeviceSession, 'tenantId' | 'device' | 'username'>, name: string): ParsedTopic | undefined {
  const { tenantId, device } = session;
  const topic = parseTopic(name);
  const allowed =
    topic &&
    (topic.format === 'thingsboard' ||
      (topic.format === 'native' && topic.tenantId === tenantId && topic.kind === device.kind && topic.deviceId === device.id) ||
      (topic.format === 'owntracks' && (topic.user === session.username || topic.user === device.id)));
  return allowed ? topic : undefined;
}
