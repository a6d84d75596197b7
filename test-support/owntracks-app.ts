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
