import { Type, type Static } from '@sinclair/typebox';
import { Crs, Latitude, Longitude, Timestamp } from './common.js';
import { LOCAL_TIME_PATTERN } from '../calendar.js';
import { Priority } from './report.js';
import { StringEnum } from './string-enum.js';

const strict = { additionalProperties: false } as const;

export const HOTLINE_SOURCES = ['12345', '12319'] as const;

/**
 * One record from a citizen hotline (12345) or the city-management hotline (12319), as the
 * hotline platform exports it, mapped to our categories. Coordinates are required: geocode the
 * address before importing.
 */
export const HotlineRecord = Type.Object(
  {
    source: StringEnum(HOTLINE_SOURCES),
    externalId: Type.String({ minLength: 1, maxLength: 128, description: "The hotline's own case number: a repeated one is not imported twice" }),
    category: Type.String({ minLength: 1, maxLength: 64, description: 'A code from GET /v1/categories' }),
    description: Type.String({ minLength: 1, maxLength: 4000 }),
    lat: Latitude(),
    lon: Longitude(),
    crs: Type.Optional(Crs),
    address: Type.Optional(Type.String({ maxLength: 300 })),
    receivedAt: Type.Optional(
      Type.Union([Timestamp, Type.String({ pattern: LOCAL_TIME_PATTERN })], {
        description:
          'When the hotline received the call: an ISO 8601 date-time with its zone, or a wall-clock time without one ' +
          '("2026-11-30 09:15"), read in the tenant\'s time zone',
      }),
    ),
    callerName: Type.Optional(Type.String({ maxLength: 100 })),
    callerPhone: Type.Optional(Type.String({ maxLength: 100 })),
    priority: Type.Optional(Priority),
  },
  strict,
);
export type HotlineRecord = Static<typeof HotlineRecord>;

const RowRef = {
  row: Type.Integer({ minimum: 1, description: '1-based position in the batch (for CSV: the data row after the header)' }),
  externalId: Type.Optional(Type.String()),
};

export const HotlineImportResult = Type.Object({
  created: Type.Array(Type.Object({ ...RowRef, id: Type.String(), number: Type.String() })),
  duplicates: Type.Array(Type.Object({ ...RowRef, id: Type.String(), number: Type.String() }), {
    description: 'rows whose case number was imported before: the existing ticket',
  }),
  errors: Type.Array(Type.Object({ ...RowRef, code: Type.String(), message: Type.String() }), { description: 'rows refused; nothing was written for them' }),
});
export type HotlineImportResult = Static<typeof HotlineImportResult>;
