import { Type, type Static } from '@sinclair/typebox';

/** ISO 8601 timestamp with zone, as every time in the API is written. */
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 date-time with zone' });

export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_:.-]+$' });

export const GeoPoint = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'WGS-84 latitude, degrees' }),
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS-84 longitude, degrees' }),
    accuracy: Type.Optional(Type.Number({ minimum: 0, maximum: 100000, description: 'metres, 68 % radius' })),
  },
  { additionalProperties: false },
);
export type GeoPoint = Static<typeof GeoPoint>;

export const Location = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    accuracy: Type.Optional(Type.Number({ minimum: 0, maximum: 100000, description: 'metres' })),
    address: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false, description: 'Where the problem is. lat/lon are required; address helps the worker.' },
);
export type Location = Static<typeof Location>;

export const PhotoRef = Type.Object(
  {
    ref: Type.String({ minLength: 1, maxLength: 512, description: 'Media reference returned by the media store, or an https URL' }),
    caption: Type.Optional(Type.String({ maxLength: 200 })),
    takenAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type PhotoRef = Static<typeof PhotoRef>;

export const Photos = Type.Array(PhotoRef, { maxItems: 9 });

export const Note = Type.String({ maxLength: 2000 });
