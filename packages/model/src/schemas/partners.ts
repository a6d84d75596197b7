import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';
import { CRS_NAMES, Timestamp } from './common.js';

const strict = { additionalProperties: false } as const;

/** Ids of the zones (estates) a partner serves; the zones must exist in the tenant. */
const PartnerZones = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 500,
  uniqueItems: true,
  description: 'ids of the zones (estates) the partner serves: what GET /v1/zones shows it',
});

/**
 * A partner: a property-management platform inside a tenant (a district). It has its own keys,
 * signs tokens only for its own residents, and reads only what concerns them.
 */
export const Partner = Type.Object({
  id: Type.String({ description: 'p_<hex>; its residents act as partner:<id>:<their id>' }),
  name: Type.String(),
  zones: PartnerZones,
  defaultCrs: Type.Optional(StringEnum(CRS_NAMES, { description: 'the coordinate system of points its keys send without naming one' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  disabledAt: Type.Optional(Timestamp),
});
export type Partner = Static<typeof Partner>;

export const CreatePartnerInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    zones: Type.Optional(PartnerZones),
    defaultCrs: Type.Optional(StringEnum(CRS_NAMES, { description: 'an app on a Chinese map: gcj02; absent: the tenant policy decides' })),
  },
  strict,
);
export type CreatePartnerInput = Static<typeof CreatePartnerInput>;

export const UpdatePartnerInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    zones: Type.Optional(PartnerZones),
  },
  strict,
);
export type UpdatePartnerInput = Static<typeof UpdatePartnerInput>;

export const PartnerKeys = Type.Object({
  partner: Partner,
  secretKey: Type.String({ description: "Shown once. The partner's servers only; signs its residents' tokens (SDK signToken)." }),
  publishableKey: Type.String({ description: 'Safe to put in a web page or a mini-program' }),
});
export type PartnerKeys = Static<typeof PartnerKeys>;
