import type { IClientOptions } from 'mqtt';

/**
 * How OwnTracks for Android connects in MQTT mode with its default settings, read from its
 * source (owntracks/android: preferences/DefaultsProvider.kt, net/mqtt/MQTTConnectionConfiguration.kt):
 * MQTT 3.1 (protocol level 3, "MQIsdp"), a client id made of the user name and Device ID
 * lowercased with every non-word character removed, a persistent session, a keepalive of an hour.
 */
export interface OwnTracksAppSettings {
  username: string;
  password: string;
  /** The app's Device ID (Identification): the device id, so that commands reach it. */
  deviceId: string;
}

export function owntracksAndroidConnection(settings: OwnTracksAppSettings): IClientOptions {
  return {
    protocolId: 'MQIsdp',
    protocolVersion: 3,
    clientId: `${settings.username}${settings.deviceId}`.replace(/\W/g, '').toLowerCase(),
    clean: false,
    keepalive: 3600,
  };
}

/**
 * The topics the app subscribes to in one SUBSCRIBE, at QoS 2 (subQos), with its default
 * subscription `owntracks/+/+`, cards on (info) and remote commands on: sorted, as the app keeps
 * them in a sorted set.
 */
export function owntracksAndroidSubscriptions(settings: OwnTracksAppSettings): string[] {
  const sub = 'owntracks/+/+';
  return [sub, `${sub}/info`, `${sub}/event`, `${sub}/status`, `owntracks/${settings.username}/${settings.deviceId}/cmd`].sort();
}

/**
 * How OwnTracks for iOS connects in MQTT mode with its default settings, read from its source
 * (owntracks/ios: MQTT.plist, Settings.m, Connection.m): MQTT 3.1.1, a client id made of the user
 * name and Device ID with everything but letters and digits removed, a persistent session, a
 * keepalive of a minute.
 */
export function owntracksIosConnection(settings: OwnTracksAppSettings): IClientOptions {
  return {
    protocolVersion: 4,
    clientId: `${settings.username}${settings.deviceId}`.replace(/[^\p{L}\p{N}]/gu, ''),
    clean: false,
    keepalive: 60,
  };
}

/**
 * The topics the iOS app subscribes to with its default (empty) subscription setting, one
 * SUBSCRIBE each at QoS 1 (subscriptionqos): everyone's locations, events and cards, and its own
 * command topic, which it subscribes to whatever its `cmd` setting (off by default) says.
 */
export function owntracksIosSubscriptions(settings: OwnTracksAppSettings): string[] {
  const base = `owntracks/${settings.username}/${settings.deviceId}`;
  return ['owntracks/+/+', 'owntracks/+/+/event', 'owntracks/+/+/info', `${base}/cmd`];
}

/** A region (waypoint) as an OwnTracks app keeps it after a setWaypoints command. */
export interface OwnTracksRegion {
  name: string;
  lat: number;
  lon: number;
  radius: number;
  tst: number;
  /** Whether the phone watches it for enter and leave: what a geofence is registered for. */
  watched: boolean;
}

interface WaypointsCommand {
  _type?: unknown;
  action?: unknown;
  waypoints?: { _type?: unknown; waypoints?: unknown };
}

/** What both apps require of the command itself; a message they would not read throws. */
function waypointsOf(cmd: WaypointsCommand): Record<string, unknown>[] {
  if (cmd._type !== 'cmd' || cmd.action !== 'setWaypoints') throw new Error(`not a setWaypoints command: ${JSON.stringify(cmd)}`);
  if (cmd.waypoints?._type !== 'waypoints' || !Array.isArray(cmd.waypoints.waypoints)) throw new Error('setWaypoints without a waypoints message');
  return cmd.waypoints.waypoints as Record<string, unknown>[];
}

/**
 * A setWaypoints command applied as OwnTracks for Android applies it, read from its source
 * (owntracks/android: model/messages/MessageCmd.kt, MessageWaypoint.kt, Parser.kt,
 * data/waypoints/WaypointsRepo.kt importFromMessage, RoomWaypointsRepo.kt): the message is parsed
 * with kotlinx.serialization, unknown keys ignored, `rad` an Int and `tst` a Long (a fraction in
 * either fails the whole message); waypoints whose lat or lon is out of range are passed over;
 * the rest are inserted, replacing the waypoint with the same `tst` (a unique index). A GMS
 * geofence is registered for each, with a radius of at least 1 m. `regions` is keyed by tst.
 */
export function androidAppliesWaypoints(regions: Map<number, OwnTracksRegion>, cmd: WaypointsCommand): void {
  const parsed = waypointsOf(cmd).map((w) => {
    if (w._type !== 'waypoint') throw new Error(`a waypoint's _type is ${String(w._type)}`);
    for (const field of ['lat', 'lon'] as const) if (typeof w[field] !== 'number') throw new Error(`${field} is no number`);
    if (!Number.isSafeInteger(w.tst)) throw new Error(`tst ${String(w.tst)} is no Long`);
    if (w.rad !== undefined && !Number.isInteger(w.rad)) throw new Error(`rad ${String(w.rad)} is no Int`);
    if (w.desc !== undefined && typeof w.desc !== 'string') throw new Error('desc is no string');
    return w as { desc?: string; lat: number; lon: number; rad?: number; tst: number };
  });
  for (const w of parsed) {
    if (w.lat < -90 || w.lat > 90 || w.lon < -180 || w.lon > 180) continue;
    const radius = w.rad ?? 0;
    regions.set(w.tst, { name: w.desc ?? '', lat: w.lat, lon: w.lon, radius, tst: w.tst, watched: true });
  }
}

/**
 * A setWaypoints command applied as OwnTracks for iOS applies it, read from its source
 * (owntracks/ios: Settings.m changesSetWaypoints, coredata/Region+CoreDataClass.m): a waypoint
 * without `_type` waypoint, a string `desc` or a number `tst` is passed over; its name is `desc`
 * up to the first colon (what follows is a beacon's uuid, major and minor); it is known by `rid`
 * (made from tst and name when absent): found, it is removed if its coordinate is invalid and
 * replaced if anything differs; not found, inserted. Only a region with a radius above 0 is
 * watched (a CLCircularRegion). `regions` is keyed by rid.
 */
export function iosAppliesWaypoints(regions: Map<string, OwnTracksRegion>, cmd: WaypointsCommand): void {
  for (const w of waypointsOf(cmd)) {
    if (w._type !== 'waypoint' || typeof w.desc !== 'string' || typeof w.tst !== 'number') continue;
    const name = w.desc.split(':')[0]!;
    const rid = typeof w.rid === 'string' ? w.rid : `${name}-${w.tst}`;
    const lat = typeof w.lat === 'number' ? w.lat : 0;
    const lon = typeof w.lon === 'number' ? w.lon : 0;
    const radius = typeof w.rad === 'number' ? w.rad : 0;
    const valid = lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
    if (!valid && regions.has(rid)) {
      regions.delete(rid);
      continue;
    }
    regions.set(rid, { name, lat, lon, radius, tst: w.tst, watched: radius > 0 && !name.startsWith('+') });
  }
}
