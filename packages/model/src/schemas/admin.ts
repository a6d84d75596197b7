import { Type, type Static } from '@sinclair/typebox';
import { CRS_NAMES, Timestamp } from './common.js';
import { StringEnum } from './string-enum.js';
import { Priority } from './report.js';

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
  id: Type.String({ description: "Also the `sub` of this person's tokens" }),
  name: Type.String(),
  role: StaffRole,
  unitId: Type.Optional(Type.String()),
  skills: Type.Array(Type.String()),
  phone: Type.Optional(Type.String()),
  qualificationCode: Type.Optional(Type.String({ description: "a driver's qualification certificate number (从业资格证号), as their IC card holds it" })),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Staff = Static<typeof Staff>;

/**
 * A driver's qualification certificate number (从业资格证号) as a JT/T 808 terminal reads it off
 * their IC card (0x0702, 20 bytes): letters and digits, which is what the certificates carry.
 */
const QualificationCode = Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9A-Za-z]+$' });

export const CreateStaffInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: StaffRole,
    unitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    skills: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
    qualificationCode: Type.Optional(QualificationCode),
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
    qualificationCode: Type.Optional(Type.Union([QualificationCode, Type.Null()], { description: 'null: the person drives with no card' })),
    active: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type UpdateStaffInput = Static<typeof UpdateStaffInput>;

const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const clockTime = (description: string) => Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description });

/** The tenant's working calendar: deadlines of the priorities it covers count only these hours. */
export const WorkingHours = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { uniqueItems: true, maxItems: 7, description: 'working weekdays, 1 = Monday ... 7 = Sunday' }),
    start: clockTime('opening time, HH:MM (24-hour, tenant time zone)'),
    end: clockTime('closing time, HH:MM, after start'),
    holidays: Type.Optional(Type.Array(IsoDate, { maxItems: 1000, description: 'public holidays: no working hours that day' })),
    workdays: Type.Optional(
      Type.Array(IsoDate, { maxItems: 1000, description: 'make-up working days (调休): worked although they fall on a non-working weekday' }),
    ),
    clockTimeFor: Type.Optional(
      Type.Array(Priority, {
        uniqueItems: true,
        description: 'priorities whose deadlines still run around the clock (default: urgent)',
      }),
    ),
  },
  strict,
);
export type WorkingHours = Static<typeof WorkingHours>;

export const TenantPolicy = Type.Object({
  reopenOnRatingAtOrBelow: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()], {
    description: 'a rating at or below this reopens the ticket; null never reopens',
  }),
  timeZone: Type.String({ description: 'IANA zone used for ticket numbers and same-day follow-up' }),
  allowedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/]+$', maxLength: 200 }), {
    maxItems: 100,
    description: 'Web origins (scheme://host[:port]) whose pages may call the API from a browser; none by default',
  }),
  workingHours: Type.Optional(
    Type.Union([WorkingHours, Type.Null()], {
      description: 'count deadlines in these working hours and holidays; null or absent: around the clock',
    }),
  ),
  publicReads: Type.Boolean({
    description:
      'publish tickets to readers without credentials (Open311 GET requests, photo ' +
      'URLs): only tickets of public categories, never their reporters; false by default',
  }),
  defaultCrs: Type.Optional(
    StringEnum(CRS_NAMES, { description: 'the coordinate system of points that do not name theirs (reports, zones, hotline rows); wgs84 when absent' }),
  ),
  fallOpensTicket: Type.Optional(Type.Boolean({ description: "a badge's fall opens an urgent ticket at its position, as an SOS does; true when absent" })),
  categoryVisibility: Type.Record(Type.String({ pattern: '^[a-z0-9_.]+$', maxLength: 64 }), StringEnum(['public', 'private'] as const), {
    description:
      "per category code, public or private, overriding the catalogue default (a worker's SOS and personal matters " +
      "are private by default); a private ticket's text, place and photos are never shown without credentials",
  }),
});
export type TenantPolicy = Static<typeof TenantPolicy>;

export const DEFAULT_TENANT_POLICY: TenantPolicy = {
  reopenOnRatingAtOrBelow: 2,
  timeZone: 'Asia/Shanghai',
  allowedOrigins: [],
  publicReads: false,
  categoryVisibility: {},
};

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
    // Unknown policy fields are refused, as PATCH /v1/tenant/policy refuses them.
    policy: Type.Optional(Type.Partial(TenantPolicy, { additionalProperties: false })),
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
