// Named builders rather than the `Type` namespace: a browser bundle (the widget) then carries
// only the builders it uses, not all of TypeBox's type system.
import { Array as TypeArray, Number as TypeNumber, Object as TypeObject, Optional, String as TypeString, type Static } from '@sinclair/typebox';

/** ISO 8601 timestamp with zone, as every time in the API is written. */
export const Timestamp = TypeString({ format: 'date-time', description: 'ISO 8601 date-time with zone' });

export const Id = TypeString({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_:.-]+$' });

export const GeoPoint = TypeObject(
  {
    lat: TypeNumber({ minimum: -90, maximum: 90, description: 'WGS-84 latitude, degrees' }),
    lon: TypeNumber({ minimum: -180, maximum: 180, description: 'WGS-84 longitude, degrees' }),
    accuracy: Optional(TypeNumber({ minimum: 0, maximum: 100000, description: 'metres, 68 % radius' })),
  },
  { additionalProperties: false },
);
export type GeoPoint = Static<typeof GeoPoint>;

export const Location = TypeObject(
  {
    lat: TypeNumber({ minimum: -90, maximum: 90 }),
    lon: TypeNumber({ minimum: -180, maximum: 180 }),
    accuracy: Optional(TypeNumber({ minimum: 0, maximum: 100000, description: 'metres' })),
    address: Optional(TypeString({ maxLength: 300 })),
  },
  { additionalProperties: false, description: 'Where the problem is. lat/lon are required; address helps the worker.' },
);
export type Location = Static<typeof Location>;

export const PhotoRef = TypeObject(
  {
    ref: TypeString({ minLength: 1, maxLength: 512, description: 'Media reference returned by the media store, or an https URL' }),
    caption: Optional(TypeString({ maxLength: 200 })),
    takenAt: Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type PhotoRef = Static<typeof PhotoRef>;

export const Photos = TypeArray(PhotoRef, { maxItems: 9 });

export const Note = TypeString({ maxLength: 2000 });
