// Named builders rather than the `Type` namespace: a browser bundle (the widget) then carries
// only the builders it uses, not all of TypeBox's type system.
import { Array as TypeArray, Number as TypeNumber, Object as TypeObject, Optional, String as TypeString, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';

/**
 * The highest latitude CivicLoop takes, north or south: what Redis GEO indexes and web maps
 * draw (±85.05112878°). No city lies beyond it; a point there is a device or client fault.
 */
export const MAX_LATITUDE = 85.05112878;

/** WGS-84 latitude in degrees, within what the live map and the geo indexes can hold. */
export const Latitude = (options: { description?: string } = {}) => TypeNumber({ minimum: -MAX_LATITUDE, maximum: MAX_LATITUDE, ...options });
/** WGS-84 longitude in degrees. */
export const Longitude = (options: { description?: string } = {}) => TypeNumber({ minimum: -180, maximum: 180, ...options });

/** ISO 8601 timestamp with zone, as every time in the API is written. */
export const Timestamp = TypeString({ format: 'date-time', description: 'ISO 8601 date-time with zone' });

export const Id = TypeString({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_:.-]+$' });

/**
 * The coordinate systems points arrive in. GPS receivers, JT/T 808 terminals and browsers give
 * WGS-84; Chinese maps (AMap, Tencent, WeChat's \`wx.getLocation({type:'gcj02'})\`) give GCJ-02,
 * Baidu gives BD-09. Inside, CivicLoop keeps everything in WGS-84.
 */
export const CRS_NAMES = ['wgs84', 'gcj02', 'bd09'] as const;
export type CrsName = (typeof CRS_NAMES)[number];
export const isCrsName = (value: unknown): value is CrsName => typeof value === 'string' && (CRS_NAMES as readonly string[]).includes(value);
export const Crs = StringEnum(CRS_NAMES, {
  description: "coordinate system of lat/lon: wgs84 (GPS, browsers), gcj02 (AMap, Tencent, WeChat), bd09 (Baidu); absent: the tenant's policy.defaultCrs",
});

export const GeoPoint = TypeObject(
  {
    lat: Latitude({ description: 'WGS-84 latitude, degrees' }),
    lon: Longitude({ description: 'WGS-84 longitude, degrees' }),
    accuracy: Optional(TypeNumber({ minimum: 0, maximum: 100000, description: 'metres, 68 % radius' })),
    crs: Optional(Crs),
  },
  { additionalProperties: false },
);
export type GeoPoint = Static<typeof GeoPoint>;

export const Location = TypeObject(
  {
    lat: Latitude(),
    lon: Longitude(),
    accuracy: Optional(TypeNumber({ minimum: 0, maximum: 100000, description: 'metres' })),
    address: Optional(TypeString({ maxLength: 300 })),
    crs: Optional(Crs),
  },
  {
    additionalProperties: false,
    description:
      "Where the problem is. lat/lon are required; address helps the worker; crs says which coordinate system lat/lon are in (absent: the tenant's default).",
  },
);
export type Location = Static<typeof Location>;

/** A point as it was received, before it was brought to WGS-84: what the reporter's map showed. */
export const ReceivedPoint = TypeObject(
  { lat: TypeNumber(), lon: TypeNumber(), crs: Crs },
  { additionalProperties: false, description: 'the point as received, in the system it came in; present only when that was not WGS-84' },
);
export type ReceivedPoint = Static<typeof ReceivedPoint>;

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

/**
 * A photo as the API shows it: its reference and, for a photo the gateway stores, `url`, a link
 * signed for the reader that works without credentials for an hour or two (an <img> cannot send
 * a token).
 */
export const ShownPhoto = TypeObject(
  {
    ...PhotoRef.properties,
    url: Optional(TypeString({ description: 'signed link to the stored photo, valid for one to two hours; present only for photos stored by this gateway' })),
  },
  { additionalProperties: false },
);
export type ShownPhoto = Static<typeof ShownPhoto>;

export const Note = TypeString({ maxLength: 2000 });
