import type { DeviceKind } from './schemas.js';

export const NATIVE_ROOT = 'civicloop';
export const THINGSBOARD_TELEMETRY = 'v1/devices/me/telemetry';
/** ThingsBoard server-side RPC: the device subscribes to `<prefix>+`; each command comes on `<prefix><integer id>`. */
export const THINGSBOARD_RPC_REQUEST_PREFIX = 'v1/devices/me/rpc/request/';
/**
 * What ThingsBoard's own device SDKs subscribe to on connecting (RPC requests and replies,
 * attribute updates and replies). `v1/devices/me/...` names no device, so on the embedded broker
 * nothing is ever routed to these by topic: a device is sent only its own commands, directly.
 */
export const THINGSBOARD_SUBSCRIPTIONS: readonly string[] = [
  `${THINGSBOARD_RPC_REQUEST_PREFIX}+`,
  'v1/devices/me/rpc/response/+',
  'v1/devices/me/attributes',
  'v1/devices/me/attributes/response/+',
];
/** What ThingsBoard firmware publishes besides telemetry (a reply to a command, its own RPC call, attributes): set aside here. */
const THINGSBOARD_OTHER = /^v1\/devices\/me\/(rpc\/response\/\d{1,10}|rpc\/request\/\d{1,10}|attributes|attributes\/request\/\d{1,10})$/;

export type NativeChannel = 'position' | 'event' | 'status' | 'cmd';

export type ParsedTopic =
  | { format: 'native'; tenantId: string; kind: DeviceKind; deviceId: string; channel: NativeChannel }
  | { format: 'owntracks'; user: string; device: string; channel: 'location' | 'event' | 'cmd' }
  /** The app's other sub-topics (waypoint, waypoints, status, info, step, beacon, dump...). */
  | { format: 'owntracks'; user: string; device: string; channel: 'other'; subtopic: string }
  | { format: 'thingsboard'; channel: 'telemetry' }
  /** A reply to a command, the device's own RPC call, its attributes or a request for them. */
  | { format: 'thingsboard'; channel: 'other'; subtopic: string };

const PLURAL: Record<string, DeviceKind> = { vehicles: 'vehicle', badges: 'badge' };
const NATIVE_CHANNELS = new Set<NativeChannel>(['position', 'event', 'status', 'cmd']);

/** Where a device of `kind` publishes and listens: civicloop/{tenant}/{kind}s/{id}/{channel}. */
export function nativeTopic(tenantId: string, kind: DeviceKind, deviceId: string, channel: NativeChannel): string {
  return `${NATIVE_ROOT}/${tenantId}/${kind}s/${deviceId}/${channel}`;
}

export function ownTracksTopic(user: string, device: string, channel: 'location' | 'event' | 'cmd' = 'location'): string {
  return channel === 'location' ? `owntracks/${user}/${device}` : `owntracks/${user}/${device}/${channel}`;
}

/** Recognises the topics CivicLoop serves; anything else is undefined (and refused). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic === THINGSBOARD_TELEMETRY) return { format: 'thingsboard', channel: 'telemetry' };
  const other = THINGSBOARD_OTHER.exec(topic);
  if (other) return { format: 'thingsboard', channel: 'other', subtopic: other[1]!.replace(/\/\d+$/, '') };
  const parts = topic.split('/');
  if (parts[0] === NATIVE_ROOT && parts.length === 5) {
    const kind = PLURAL[parts[2]!];
    const channel = parts[4] as NativeChannel;
    if (!kind || !NATIVE_CHANNELS.has(channel) || !parts[1] || !parts[3]) return undefined;
    return { format: 'native', tenantId: parts[1], kind, deviceId: parts[3], channel };
  }
  if (parts[0] === 'owntracks' && (parts.length === 3 || parts.length === 4) && parts[1] && parts[2]) {
    if (parts.length === 3) return { format: 'owntracks', user: parts[1], device: parts[2], channel: 'location' };
    if (parts[3] === 'event' || parts[3] === 'cmd') return { format: 'owntracks', user: parts[1], device: parts[2], channel: parts[3] };
    if (parts[3]) return { format: 'owntracks', user: parts[1], device: parts[2], channel: 'other', subtopic: parts[3] };
  }
  return undefined;
}
