import { Type, type Static } from '@sinclair/typebox';
import { Ticket, TicketEvent, TicketStatus, Channel } from './ticket.js';
import { CRS_NAMES } from './common.js';
import { StringEnum } from './string-enum.js';

const csv = (description: string) => Type.String({ maxLength: 500, description });

export const ListTicketsQuery = Type.Object(
  {
    status: Type.Optional(csv('comma-separated statuses')),
    category: Type.Optional(Type.String({ maxLength: 64 })),
    unitId: Type.Optional(Type.String({ maxLength: 64 })),
    assigneeId: Type.Optional(Type.String({ maxLength: 64 })),
    channel: Type.Optional(Channel),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'text in number, description or address' })),
    overdue: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    crs: Type.Optional(
      StringEnum(CRS_NAMES, {
        description: 'give locations in this coordinate system (gcj02 for AMap/Tencent/WeChat maps, bd09 for Baidu); wgs84 when absent',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListTicketsQuery = Static<typeof ListTicketsQuery>;

export const TicketPage = Type.Object({
  items: Type.Array(Ticket),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'pass as cursor for the next page; null when there is none',
  }),
});
export type TicketPage = Static<typeof TicketPage>;

export const TicketHistory = Type.Object({ items: Type.Array(TicketEvent) });
export type TicketHistory = Static<typeof TicketHistory>;

export { TicketStatus };
