import { Type, type Static } from '@sinclair/typebox';
import { Crs, Latitude, Longitude, ReceivedPoint, Timestamp } from '../schemas/common.js';
import { Actor } from '../schemas/principal.js';
import { StringEnum } from '../schemas/string-enum.js';

export const DEVICE_KINDS = ['vehicle', 'badge'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export const DeviceKind = StringEnum(DEVICE_KINDS);

/**
 * How a device reaches the gateway. `mqtt` devices log in with their secret (MQTT, or HTTP for
 * Traccar Client / OsmAnd); `jt808` terminals are known by their terminal number and get an
 * authentication code when they register over JT/T 808.
 */
export const DEVICE_PROTOCOLS = ['mqtt', 'jt808'] as const;
export type DeviceProtocol = (typeof DEVICE_PROTOCOLS)[number];

/** A JT/T 808 terminal number: up to 12 digits (2013) or 20 (2019), as its header carries it in BCD. */
export const TerminalId = Type.String({ pattern: '^[0-9]{1,20}$', description: 'jt808: the terminal number (phone number) its header carries, digits only' });

export const Device = Type.Object({
  id: Type.String({ description: 'Also the MQTT username of the device' }),
  kind: DeviceKind,
  name: Type.String(),
  protocol: Type.Optional(StringEnum(DEVICE_PROTOCOLS, { description: 'mqtt when absent' })),
  terminalId: Type.Optional(TerminalId),
  crs: Type.Optional(Crs),
  unitId: Type.Optional(Type.String()),
  staffId: Type.Optional(Type.String({ description: 'badge: the staff member who wears it; vehicle: its driver, whose assignments its screen shows' })),
  skills: Type.Array(Type.String(), { description: "badge: the wearer's skills" }),
  plate: Type.Optional(Type.String({ description: 'vehicle: licence plate' })),
  disabled: Type.Boolean(),
  ownTracksEncryption: Type.Optional(
    Type.Boolean({ description: 'true when the device has an ownTracksKey: its OwnTracks messages come encrypted and are opened with it' }),
  ),
  provisionedBy: Type.Optional(Type.String({ description: 'the provisioning profile that registered it, or gave it its secret (one registered beforehand)' })),
  credentialIssuedAt: Timestamp,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Device = Static<typeof Device>;

const OwnTracksKey = Type.String({
  minLength: 1,
  maxLength: 32,
  description:
    "the encryption key set in the device's OwnTracks app (1 to 32 bytes of UTF-8), so that its encrypted messages can be opened; " +
    'kept sealed, never shown again',
});

export const CreateDeviceInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 48, pattern: '^[A-Za-z0-9_-]+$' })),
    kind: DeviceKind,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    protocol: Type.Optional(
      StringEnum(DEVICE_PROTOCOLS, {
        description: 'mqtt (the default): MQTT or HTTP with the device secret; jt808: a JT/T 808 terminal, which needs terminalId',
      }),
    ),
    terminalId: Type.Optional(TerminalId),
    crs: Type.Optional(
      StringEnum(['wgs84', 'gcj02', 'bd09'] as const, {
        description: 'the system of the points this device sends (a phone app may send GCJ-02); wgs84 when absent, as GPS receivers and JT/T 808 report',
      }),
    ),
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    staffId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    skills: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 })),
    plate: Type.Optional(Type.String({ maxLength: 20 })),
    ownTracksKey: Type.Optional(OwnTracksKey),
  },
  { additionalProperties: false },
);
export type CreateDeviceInput = Static<typeof CreateDeviceInput>;

export const UpdateDeviceInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    staffId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    skills: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 })),
    plate: Type.Optional(Type.String({ maxLength: 20 })),
    crs: Type.Optional(StringEnum(['wgs84', 'gcj02', 'bd09'] as const)),
    disabled: Type.Optional(Type.Boolean({ description: 'a disabled device is refused at its next CONNECT and disconnected now' })),
    ownTracksKey: Type.Optional(
      Type.Union([OwnTracksKey, Type.Null()], {
        description: 'a new OwnTracks encryption key, or null for none; a connected device is disconnected to take it up',
      }),
    ),
  },
  { additionalProperties: false },
);
export type UpdateDeviceInput = Static<typeof UpdateDeviceInput>;

export const DeviceCredential = Type.Object({
  username: Type.String({ description: 'MQTT username: the device id' }),
  password: Type.String({
    description:
      'Shown once. MQTT password; ThingsBoard-style clients send it as the username with no ' +
      'password. A jt808 terminal is given its own authentication code when it registers',
  }),
});
export type DeviceCredential = Static<typeof DeviceCredential>;

export const RegisteredDevice = Type.Object({ device: Device, credential: DeviceCredential });
export type RegisteredDevice = Static<typeof RegisteredDevice>;

const lat = Latitude();
const lon = Longitude();

/** Native position payload on civicloop/{tenant}/{vehicles|badges}/{id}/position. */
export const NativePosition = Type.Object(
  {
    ts: Type.Integer({ minimum: 0, description: 'fix time, epoch milliseconds' }),
    lat,
    lon,
    accuracy: Type.Optional(Type.Number({ minimum: 0, maximum: 100000, description: 'metres' })),
    altitude: Type.Optional(Type.Number({ minimum: -1000, maximum: 10000, description: 'metres' })),
    speed: Type.Optional(Type.Number({ minimum: 0, maximum: 500, description: 'km/h' })),
    course: Type.Optional(Type.Number({ minimum: 0, maximum: 360, description: 'degrees' })),
    battery: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percent' })),
    valid: Type.Optional(Type.Boolean({ description: 'false when the receiver had no fix; stored, not used for the live map' })),
  },
  { additionalProperties: false },
);
export type NativePosition = Static<typeof NativePosition>;

export const BADGE_EVENT_TYPES = ['check_in', 'check_out', 'sos', 'low_battery', 'fall'] as const;
export type BadgeEventType = (typeof BADGE_EVENT_TYPES)[number];

/** Native badge event on civicloop/{tenant}/badges/{id}/event. */
export const BadgeEvent = Type.Object(
  {
    type: StringEnum(BADGE_EVENT_TYPES),
    ts: Type.Integer({ minimum: 0, description: 'epoch milliseconds' }),
    lat: Type.Optional(lat),
    lon: Type.Optional(lon),
    battery: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type BadgeEvent = Static<typeof BadgeEvent>;

/** Status on .../{id}/status, usually the last will: { "state": "offline" }. */
export const DeviceStatusPayload = Type.Object(
  { state: StringEnum(['online', 'offline'] as const), ts: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);
export type DeviceStatusPayload = Static<typeof DeviceStatusPayload>;

/**
 * Why a ticket a badge was given is no longer its wearer's: reassigned to someone else, returned
 * to the dispatchers, or merged into another report; or, told only to an OwnTracks phone, whose
 * regions are its wearer's jobs, resolved by them.
 */
export const WITHDRAWAL_REASONS = ['reassigned', 'returned', 'merged', 'resolved'] as const;
export type WithdrawalReason = (typeof WITHDRAWAL_REASONS)[number];

/**
 * Alarms a device keeps raising until someone at the platform confirms them: JT/T 808 terminals
 * hold these alarm bits set until the platform's manual confirmation (0x8203, JT/T 808-2013
 * table 24: "cleared once answered"), so a second SOS from a terminal never confirmed is never
 * seen. A dispatcher confirms them with POST /v1/devices/{id}/alarms/confirm.
 */
export const CONFIRMABLE_ALARMS = ['sos', 'danger_warning', 'area_in_out', 'route_in_out', 'route_time', 'illegal_ignition', 'illegal_displacement'] as const;
export type ConfirmableAlarm = (typeof CONFIRMABLE_ALARMS)[number];

/** What an assignment and a rework tell a device of the ticket its wearer is to go to. */
const ticketToGo = {
  ticketId: Type.String(),
  number: Type.String(),
  category: Type.String(),
  description: Type.String(),
  location: Type.Object({ lat, lon, address: Type.Optional(Type.String()) }),
  priority: Type.String(),
  resolveBy: Type.Optional(Timestamp),
};

/** Commands the gateway sends on .../badges/{id}/cmd. */
export const BadgeCommand = Type.Union([
  Type.Object({
    type: Type.Literal('assignment'),
    ...ticketToGo,
    commandId: Type.Optional(Type.String({ description: 'set on what a device receives: the same id on a command sent again' })),
  }),
  Type.Object({
    type: Type.Literal('rework'),
    ...ticketToGo,
    note: Type.String({ description: "the supervisor's note from the failed verification: what is still wrong" }),
    commandId: Type.Optional(Type.String()),
  }),
  Type.Object({ type: Type.Literal('report_location'), commandId: Type.Optional(Type.String()) }),
  Type.Object({
    type: Type.Literal('take_photo'),
    channel: Type.Integer({ description: 'the camera to take it with (a JT/T 808 terminal only)' }),
    commandId: Type.Optional(Type.String()),
  }),
  Type.Object({
    type: Type.Literal('withdrawal'),
    ticketId: Type.String(),
    number: Type.String(),
    reason: StringEnum(WITHDRAWAL_REASONS, { description: "what took the ticket from the badge's wearer" }),
    commandId: Type.Optional(Type.String()),
  }),
  Type.Object({
    type: Type.Literal('alarm_confirmation'),
    alarms: Type.Array(StringEnum(CONFIRMABLE_ALARMS), { minItems: 1, description: 'the alarms a dispatcher confirmed: the device may stop raising them' }),
    commandId: Type.Optional(Type.String()),
  }),
]);
export type BadgeCommand = Static<typeof BadgeCommand>;

export const POSITION_SOURCES = ['native', 'owntracks', 'thingsboard', 'jt808', 'osmand'] as const;
export type PositionSource = (typeof POSITION_SOURCES)[number];

/**
 * The one position record every format is mapped to (after Traccar's model): three times, one
 * speed unit (km/h), and an idempotency key of device + fix time, because QoS 1 and batch
 * uploads redeliver.
 */
export const PositionRecord = Type.Object({
  deviceId: Type.String(),
  kind: DeviceKind,
  fixTime: Type.Integer({ description: 'when the position was measured, epoch ms' }),
  deviceTime: Type.Integer({ description: 'when the device sent it, epoch ms (= fixTime when the format has one time)' }),
  serverTime: Type.Integer({ description: 'when the gateway received it, epoch ms' }),
  valid: Type.Boolean(),
  lat,
  lon,
  altitude: Type.Optional(Type.Number()),
  speedKmh: Type.Optional(Type.Number()),
  course: Type.Optional(Type.Number()),
  accuracy: Type.Optional(Type.Number()),
  battery: Type.Optional(Type.Number()),
  alarms: Type.Array(Type.String()),
  source: StringEnum(POSITION_SOURCES),
  key: Type.String({ description: 'deviceId:fixTime, for de-duplication' }),
  received: Type.Optional(ReceivedPoint),
  /** Format-specific readings a terminal adds (JT/T 808 mileage, fuel, signal, satellites...). */
  extra: Type.Optional(Type.Record(Type.String(), Type.Number())),
});
export type PositionRecord = Static<typeof PositionRecord>;

/** Where a JT/T 808 terminal said it was when asked (POST /v1/devices/{id}/locate). */
export const LocatedPosition = Type.Object({
  lat: Type.Number(),
  lon: Type.Number(),
  crs: Type.String({ description: 'the system lat/lon are given in: ?crs, else wgs84' }),
  fixTime: Timestamp,
  valid: Type.Boolean(),
  speedKmh: Type.Optional(Type.Number()),
  course: Type.Optional(Type.Number()),
  altitude: Type.Optional(Type.Number()),
  alarms: Type.Array(Type.String()),
});
export type LocatedPosition = Static<typeof LocatedPosition>;

/**
 * What a device raises that someone should see now: an SOS, a fall, a low battery, or a
 * vehicle alarm (JT/T 808 alarm bits, a tracker's alarm); and `alarm_confirmed`, a dispatcher's
 * confirmation of a device's alarms, so that every console sees they were seen to. On the
 * tenant's event stream (`event: device`), its webhooks (`device.<type>`) and the console.
 */
export const DEVICE_ALERT_TYPES = ['sos', 'fall', 'low_battery', 'alarm', 'alarm_confirmed'] as const;
export type DeviceAlertType = (typeof DEVICE_ALERT_TYPES)[number];
export const DeviceAlert = Type.Object({
  type: StringEnum(DEVICE_ALERT_TYPES),
  alarm: Type.Optional(Type.String({ description: 'type alarm: which one (overspeed, fatigue, power_off, collision...)' })),
  deviceId: Type.String(),
  deviceKind: DeviceKind,
  deviceName: Type.String(),
  staffId: Type.Optional(Type.String()),
  unitId: Type.Optional(Type.String()),
  /** The device's time of the alarm; alarm_confirmed: when it was confirmed, by the gateway's clock. */
  at: Timestamp,
  lat: Type.Optional(Type.Number()),
  lon: Type.Optional(Type.Number()),
  battery: Type.Optional(Type.Number()),
  ticketId: Type.Optional(Type.String({ description: 'the urgent ticket it opened (an SOS, a fall)' })),
  ticketNumber: Type.Optional(Type.String()),
  alarms: Type.Optional(Type.Array(StringEnum(CONFIRMABLE_ALARMS), { description: 'alarm_confirmed: the alarms confirmed' })),
  /** alarm_confirmed: who confirmed them. */
  confirmedBy: Type.Optional(Actor),
});
export type DeviceAlert = Static<typeof DeviceAlert>;
