import type { DeviceKind } from './schemas.js';

export const NATIVE_ROOT = 'civicloop';
export const THINGSBOARD_TELEMETRY = 'v1/devices/me/telemetry';

export type NativeChannel = 'position' | 'event' | 'status' | 'cmd';

export type ParsedTopic =
  | { format: 'native'; tenantId: string; kind: DeviceKind; deviceId: string; channel: NativeChannel }
  | { format: 'owntracks'; user: string; device: string; channel: 'location' | 'event' | 'cmd' }
  /** The app's other sub-topics (waypoint, waypoints, status, info, step, beacon, dump...). */
  | { format: 'owntracks'; user: string; device: string; channel: 'other'; subtopic: string }
  | { format: 'thingsboard'; channel: 'telemetry' };

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
