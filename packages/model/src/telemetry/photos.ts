import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from '../schemas/common.js';
import { StringEnum } from '../schemas/string-enum.js';

/**
 * Photos a vehicle's camera takes: a JT/T 808 terminal uploads them (multimedia data upload,
 * 0x0801), by itself (on a timer, on an alarm, when a door opens) or when a dispatcher asks for one
 * (camera command, 0x8801). Each is stored as an uploaded photo is and kept with the device.
 */

/**
 * Why the terminal took it (JT/T 808's event item code): a platform's command, its own timer, a
 * robbery (SOS) alarm, a collision or rollover, a door opened, closed, closed with the vehicle
 * moving off (above 20 km/h), a set distance driven; `other` for a code the standard reserves.
 */
export const PHOTO_EVENTS = ['platform', 'timed', 'robbery_alarm', 'collision', 'door_open', 'door_closed', 'door_closed_moving', 'distance', 'other'] as const;
export type PhotoEvent = (typeof PHOTO_EVENTS)[number];

export const DevicePhoto = Type.Object({
  id: Type.Integer({ description: "the terminal's multimedia id" }),
  deviceId: Type.String(),
  channel: Type.Integer({ description: 'the camera (channel) it was taken with' }),
  event: StringEnum(PHOTO_EVENTS, { description: 'why it was taken' }),
  takenAt: Type.Union([Timestamp, Type.Null()], { description: 'the time of the position the terminal sent with it (null: sent without one)' }),
  position: Type.Union([Type.Object({ lat: Type.Number(), lon: Type.Number() }), Type.Null()], {
    description: 'where, in WGS-84 (null: no valid fix with it)',
  }),
  receivedAt: Timestamp,
  ref: Type.String({ description: "the stored photo, as a ticket's photos[].ref names it" }),
  url: Type.String({ description: 'a signed link to it, valid one to two hours' }),
  thumbnailUrl: Type.String({ description: 'the same for its thumbnail' }),
});
export type DevicePhoto = Static<typeof DevicePhoto>;

export const TakePhotoInput = Type.Object(
  { channel: Type.Optional(Type.Integer({ minimum: 1, maximum: 255, description: 'the camera to take it with; 1 when absent' })) },
  { additionalProperties: false },
);
export type TakePhotoInput = Static<typeof TakePhotoInput>;
