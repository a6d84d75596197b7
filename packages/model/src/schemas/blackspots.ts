import { Type, type Static } from '@sinclair/typebox';
import { CRS_NAMES, Timestamp } from './common.js';
import { Actor } from './principal.js';
import { StringEnum } from './string-enum.js';

export const BlackSpotInspection = Type.Object({
  at: Timestamp,
  by: Actor,
  passed: Type.Boolean(),
  note: Type.Optional(Type.String()),
  findingTicketId: Type.Optional(Type.String({ description: 'the ticket opened for what a failed inspection found' })),
});

/** A place that keeps producing tickets, coded and tracked until it is closed out. */
export const BlackSpot = Type.Object({
  code: Type.String({ description: 'BS-<tenant code>-<YYYYMM>-<NNN>' }),
  cell: Type.String({ description: 'the grid cell (about 220 m square)' }),
  center: Type.Object({
    lat: Type.Number(),
    lon: Type.Number(),
    crs: Type.Optional(StringEnum(CRS_NAMES, { description: 'the system the centre is in, when read with ?crs other than wgs84' })),
  }),
  status: StringEnum(['open', 'closed'] as const),
  openedAt: Timestamp,
  ticketsWhenOpened: Type.Integer({ description: 'tickets in the cell within the window when it was coded' }),
  ticketsSince: Type.Integer({ description: 'tickets reported in the cell since it was coded' }),
  lastTicketAt: Timestamp,
  escalatedAt: Type.Optional(Timestamp),
  inspections: Type.Array(BlackSpotInspection),
  closedAt: Type.Optional(Timestamp),
});
export type BlackSpot = Static<typeof BlackSpot>;

export const BlackSpotInspectionInput = Type.Object(
  {
    passed: Type.Boolean(),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'for a failed inspection: the category of the finding ticket' })),
  },
  { additionalProperties: false },
);
export type BlackSpotInspectionInput = Static<typeof BlackSpotInspectionInput>;
