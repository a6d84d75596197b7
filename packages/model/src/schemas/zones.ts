import { Type, type Static } from '@sinclair/typebox';
import { Crs, Timestamp } from './common.js';
import { StringEnum } from './string-enum.js';

const strict = { additionalProperties: false } as const;

/** [longitude, latitude], as GeoJSON orders them. */
const Position = Type.Tuple([Type.Number({ minimum: -180, maximum: 180 }), Type.Number({ minimum: -90, maximum: 90 })]);
/** A closed ring: at least four positions, the last equal to the first. */
const Ring = Type.Array(Position, { minItems: 4, maxItems: 20_000 });
const PolygonCoordinates = Type.Array(Ring, { minItems: 1, maxItems: 200, description: 'outer ring first, then holes' });

export const ZoneGeometry = Type.Union([
  Type.Object({ type: Type.Literal('Polygon'), coordinates: PolygonCoordinates }, strict),
  Type.Object({ type: Type.Literal('MultiPolygon'), coordinates: Type.Array(PolygonCoordinates, { minItems: 1, maxItems: 200 }) }, strict),
]);
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
    geometry: ZoneGeometry,
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
