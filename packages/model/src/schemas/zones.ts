import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Crs, Timestamp } from './common.js';
import { StringEnum } from './string-enum.js';

const strict = { additionalProperties: false } as const;

const Longitude = Type.Number({ minimum: -180, maximum: 180 });
const Latitude = Type.Number({ minimum: -90, maximum: 90 });
/** [longitude, latitude], as GeoJSON orders them: how a zone's outline is kept and shown. */
const Position = Type.Tuple([Longitude, Latitude]);
/**
 * A position as a zone is sent: GeoJSON (RFC 7946, 3.1.1) allows an altitude as a third element,
 * and outlines exported from KML or drawn in 3D GIS layers carry one (often 0). It is dropped.
 */
const PositionWithOptionalAltitude = Type.Union([Position, Type.Tuple([Longitude, Latitude, Type.Number({ description: 'altitude, dropped' })])]);

const shapes = <P extends TSchema>(position: P) => {
  /** A closed ring: at least four positions, the last equal to the first. */
  const Ring = Type.Array(position, { minItems: 4, maxItems: 20_000 });
  const PolygonCoordinates = Type.Array(Ring, { minItems: 1, maxItems: 200, description: 'outer ring first, then holes' });
  return Type.Union([
    Type.Object({ type: Type.Literal('Polygon'), coordinates: PolygonCoordinates }, strict),
    Type.Object({ type: Type.Literal('MultiPolygon'), coordinates: Type.Array(PolygonCoordinates, { minItems: 1, maxItems: 200 }) }, strict),
  ]);
};

/** A zone's outline as kept and shown: a GeoJSON Polygon or MultiPolygon of [longitude, latitude]. */
export const ZoneGeometry = shapes(Position);
/** A zone's outline as sent: positions may carry an altitude, which is dropped. */
export const ZoneGeometryInput = shapes(PositionWithOptionalAltitude);
export type ZoneGeometryInput = Static<typeof ZoneGeometryInput>;
export type ZoneGeometry = Static<typeof ZoneGeometry>;

/** What a zone is: a street office's area, a village, a grid cell, or a place that is ranked. */
export const ZONE_TYPES = ['district', 'street', 'community', 'village', 'grid', 'road', 'market', 'park', 'toilet', 'other'] as const;
export const ZoneType = StringEnum(ZONE_TYPES);
export type ZoneType = (typeof ZONE_TYPES)[number];

export const ZoneRoute = Type.Object(
  {
    categories: Type.Array(Type.String({ pattern: '^(\\*|[a-z0-9_]+\\.\\*|[a-z0-9_]+\\.[a-z0-9_.]+)$', maxLength: 64 }), {
      minItems: 1,
      maxItems: 100,
      description: 'category codes, a whole group as "sanitation.*", or "*" for every category',
    }),
    unitId: Type.String({ minLength: 1, maxLength: 64 }),
  },
  strict,
);
export type ZoneRoute = Static<typeof ZoneRoute>;

const ZoneId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });

export const CreateZoneInput = Type.Object(
  {
    id: ZoneId,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    type: ZoneType,
    parentId: Type.Optional(ZoneId),
    mustCheck: Type.Optional(Type.Boolean({ description: 'a central zone every weekly inspection round includes' })),
    geometry: ZoneGeometryInput,
    crs: Type.Optional(Crs),
    routes: Type.Optional(
      Type.Array(ZoneRoute, {
        maxItems: 100,
        description: 'which unit is responsible for which categories here; the most specific zone with a matching route wins',
      }),
    ),
  },
  strict,
);
export type CreateZoneInput = Static<typeof CreateZoneInput>;

export const UpdateZoneInput = Type.Partial(Type.Omit(CreateZoneInput, ['id']), strict);
export type UpdateZoneInput = Static<typeof UpdateZoneInput>;

export const Zone = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: ZoneType,
  parentId: Type.Optional(Type.String()),
  mustCheck: Type.Optional(Type.Boolean()),
  geometry: ZoneGeometry,
  drawnIn: Type.Optional(Crs),
  routes: Type.Array(ZoneRoute),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Zone = Static<typeof Zone>;
