import { decodeNative } from './decode-native.js';
import { decodeOwnTracks, type OpenOwnTracks } from './decode-owntracks.js';
import { DEFAULT_DECODE_LIMITS, ignore, parseJson, reject, type DecodeLimits, type DecodedTelemetry, type DeviceRef } from './decode-shared.js';
import { decodeThingsBoard } from './decode-thingsboard.js';
import type { ParsedTopic } from './topics.js';

export {
  DEFAULT_DECODE_LIMITS,
  mapCheck,
  positionRecord,
  timeCheck,
  type DecodeLimits,
  type DecodedTelemetry,
  type RecordFields,
  type TelemetryIgnored,
  type TelemetryRejection,
} from './decode-shared.js';

/**
 * Turns one MQTT message from a device into what the gateway stores (position records, every
 * format mapped to one; a badge event; a status), or says why it is set aside or refused. It
 * never throws, whatever the bytes: a property test feeds it arbitrary JSON in every format.
 * Pure apart from reading `now`, so it is tested without a broker. `openOwnTracks` opens the
 * OwnTracks messages the device encrypts (given when it has a key).
 */
export function decodeTelemetry(
  topic: ParsedTopic,
  payload: Uint8Array | string,
  device: DeviceRef,
  now: number,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  openOwnTracks?: OpenOwnTracks,
): DecodedTelemetry {
  if (topic.format === 'native' && topic.channel === 'cmd')
    return reject('not_publishable', 'cmd topics carry commands to devices; devices do not publish there');
  if (topic.format === 'owntracks') {
    if (topic.channel === 'cmd') return reject('not_publishable', 'cmd topics carry commands to devices; devices do not publish there');
    // waypoint(s), status, info, step, beacon, dump: the app's own business, not ours.
    if (topic.channel === 'other') return ignore('unused_topic', `OwnTracks ${topic.subtopic} messages are not used here`);
  }
  // A reply to a command, an RPC call or attributes: answered by PUBACK, not used.
  if (topic.format === 'thingsboard' && topic.channel === 'other') return ignore('unused_topic', `ThingsBoard ${topic.subtopic} messages are not used here`);
  const parsed = parseJson(payload, limits);
  if (!parsed.ok) return parsed.result;
  switch (topic.format) {
    case 'native':
      return decodeNative(topic.channel, parsed.value, device, now, limits);
    case 'owntracks':
      return decodeOwnTracks(parsed.value, device, now, limits, openOwnTracks);
    case 'thingsboard':
      return decodeThingsBoard(parsed.value, device, now, limits);
  }
}

export type { DeviceRef };
export { decodeOsmAnd, alarmName } from './decode-osmand.js';
export { decodeOwnTracks, type OpenOwnTracks } from './decode-owntracks.js';
