import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.js';
import { StringEnum } from './string-enum.js';

const strict = { additionalProperties: false } as const;

export const Unit = Type.Object({
  id: Type.String(),
  name: Type.String(),
  categories: Type.Array(Type.String(), { description: 'category codes this unit is responsible for' }),
  phone: Type.Optional(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Unit = Static<typeof Unit>;

export const CreateUnitInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    categories: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
  },
  strict,
);
export type CreateUnitInput = Static<typeof CreateUnitInput>;

export const UpdateUnitInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    categories: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    active: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type UpdateUnitInput = Static<typeof UpdateUnitInput>;

export const STAFF_ROLE_NAMES = ['steward', 'dispatcher', 'worker', 'supervisor', 'admin'] as const;
export const StaffRole = StringEnum(STAFF_ROLE_NAMES);
export type StaffRole = Static<typeof StaffRole>;

export const Staff = Type.Object({
  id: Type.String({ description: 'Also the `sub` of this person\'s tokens' }),
  name: Type.String(),
  role: StaffRole,
  unitId: Type.Optional(Type.String()),
  skills: Type.Array(Type.String()),
  phone: Type.Optional(Type.String()),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Staff = Static<typeof Staff>;

export const CreateStaffInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: StaffRole,
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    skills: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
  },
  strict,
);
export type CreateStaffInput = Static<typeof CreateStaffInput>;

export const UpdateStaffInput = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    role: Type.Optional(StaffRole),
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    skills: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    active: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type UpdateStaffInput = Static<typeof UpdateStaffInput>;

export const TenantPolicy = Type.Object({
  reopenOnRatingAtOrBelow: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()], {
    description: 'a rating at or below this reopens the ticket; null never reopens',
  }),
  timeZone: Type.String({ description: 'IANA zone used for ticket numbers and same-day follow-up' }),
  allowedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/]+$', maxLength: 200 }), {
    maxItems: 100,
    description: 'Web origins (scheme://host[:port]) whose pages may call the API from a browser; none by default',
  }),
});
export type TenantPolicy = Static<typeof TenantPolicy>;

export const DEFAULT_TENANT_POLICY: TenantPolicy = { reopenOnRatingAtOrBelow: 2, timeZone: 'Asia/Shanghai', allowedOrigins: [] };

export const UpdateTenantPolicyInput = Type.Partial(TenantPolicy, { additionalProperties: false });
export type UpdateTenantPolicyInput = Static<typeof UpdateTenantPolicyInput>;

export const Tenant = Type.Object({
  id: Type.String(),
  code: Type.String({ description: 'Short uppercase code that prefixes ticket numbers' }),
  name: Type.String(),
  policy: TenantPolicy,
  createdAt: Timestamp,
});
export type Tenant = Static<typeof Tenant>;

export const CreateTenantInput = Type.Object(
  {
    code: Type.String({ minLength: 2, maxLength: 8, pattern: '^[A-Z][A-Z0-9]+$' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    policy: Type.Optional(Type.Partial(TenantPolicy)),
  },
  strict,
);
export type CreateTenantInput = Static<typeof CreateTenantInput>;

export const TenantKeys = Type.Object({
  tenant: Tenant,
  secretKey: Type.String({ description: 'Shown once. Server-to-server only; also signs tokens.' }),
  publishableKey: Type.String({ description: 'Safe to put in a web page' }),
});
export type TenantKeys = Static<typeof TenantKeys>;
