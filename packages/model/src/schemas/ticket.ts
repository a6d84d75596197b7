import { Type, type Static } from '@sinclair/typebox';
import { Actor } from './principal.js';
import { Location, Note, ReceivedPoint, ShownPhoto, Timestamp } from './common.js';
import { Category, Priority } from './category.js';
import { Answers } from './report.js';
import { StringEnum } from './string-enum.js';

export const TICKET_STATUSES = ['reported', 'dispatched', 'accepted', 'on_site', 'resolved', 'rework', 'closed', 'rejected', 'duplicate', 'cancelled'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TicketStatus = StringEnum(TICKET_STATUSES);

/** States a ticket never leaves, except `closed`, which a reopen may send back to dispatch. */
export const TERMINAL_STATUSES: readonly TicketStatus[] = ['closed', 'rejected', 'duplicate', 'cancelled'];
/** States in which someone is working against an SLA deadline. */
export const OPEN_WORK_STATUSES: readonly TicketStatus[] = ['dispatched', 'accepted', 'on_site', 'resolved', 'rework'];

import { Channel } from './report.js';

export { CHANNELS, Channel } from './report.js';

export const REJECT_REASONS = ['invalid', 'not_responsible', 'void'] as const;
export const RejectReason = StringEnum(REJECT_REASONS);
export type RejectReason = (typeof REJECT_REASONS)[number];

export const Sla = Type.Object({
  respondBy: Timestamp,
  arriveBy: Timestamp,
  resolveBy: Timestamp,
  countedIn: Type.Optional(
    Type.Literal('working_hours', { description: "present when the deadlines count the tenant's working hours and holidays; absent: around the clock" }),
  ),
  steps: Type.Optional(
    Type.Object(
      { respond: Type.Array(Timestamp), arrive: Type.Array(Timestamp), resolve: Type.Array(Timestamp) },
      { description: "in working hours: when 50, 75, 100, 150 and 200 % of each deadline's working time are reached (warnings and escalations)" },
    ),
  ),
});
export type Sla = Static<typeof Sla>;

export const Reporter = Type.Object({
  sub: Type.String(),
  role: Type.String(),
  name: Type.Optional(Type.String()),
  contact: Type.Optional(Type.String()),
});

export const Feedback = Type.Object({
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  comment: Type.Optional(Type.String()),
  at: Timestamp,
  by: Actor,
  sameDay: Type.Boolean({ description: 'recorded on the same calendar day (tenant time zone) as the close' }),
  via: Type.Optional(Type.String({ description: 'app, phone, sms or visit' })),
});
export type Feedback = Static<typeof Feedback>;

/** A request for more time to resolve, and the dispatcher's decision on it. */
export const Extension = Type.Object({
  status: StringEnum(['pending', 'approved', 'refused'] as const),
  minutes: Type.Integer({ minimum: 1 }),
  reason: Type.String(),
  requestedAt: Timestamp,
  requestedBy: Actor,
  decidedAt: Type.Optional(Timestamp),
  decidedBy: Type.Optional(Actor),
});
export type Extension = Static<typeof Extension>;

/** An open ticket of the same category, close by and recent: probably the same problem. */
export const LikelyDuplicate = Type.Object({
  id: Type.String(),
  number: Type.String(),
  status: TicketStatus,
  distanceMeters: Type.Integer({ minimum: 0 }),
  createdAt: Timestamp,
});
export type LikelyDuplicate = Static<typeof LikelyDuplicate>;

export const Ticket = Type.Object({
  id: Type.String({ description: 'Opaque id' }),
  number: Type.String({ description: 'Human-readable number for phone callbacks: TENANTCODE-YYYYMMDD-NNNN' }),
  tenantId: Type.String(),
  version: Type.Integer({ minimum: 1, description: 'Increases by one with every event' }),
  status: TicketStatus,
  category: Type.String(),
  categoryAsReported: Type.Optional(Category),
  answers: Type.Optional(Answers),
  priority: Priority,
  channel: Channel,
  description: Type.String(),
  location: Location,
  reportedLocation: Type.Optional(ReceivedPoint),
  photos: Type.Array(ShownPhoto, { description: 'Photos taken when reporting' }),
  afterPhotos: Type.Array(ShownPhoto, { description: 'Photos of the fix, from the latest resolve' }),
  reporter: Reporter,
  anonymous: Type.Boolean(),
  followers: Type.Array(Type.String(), {
    description: 'subs of reporters who follow this ticket (merged duplicates); residents and partners see only their own',
  }),
  partnerId: Type.Optional(Type.String({ description: 'the partner through which it was reported' })),
  unitId: Type.Optional(Type.String()),
  assigneeId: Type.Optional(Type.String()),
  sla: Type.Optional(Sla),
  extension: Type.Optional(Extension),
  timers: Type.Optional(
    Type.Object(
      { respond: Type.Optional(Type.Integer()), arrive: Type.Optional(Type.Integer()), resolve: Type.Optional(Type.Integer()) },
      { description: 'per deadline, the highest step (percent of its span) already warned or escalated in this dispatch' },
    ),
  ),
  followUpRequestedAt: Type.Optional(Timestamp),
  escalationLevel: Type.Optional(Type.Integer({ minimum: 1, description: 'highest escalation (督办) level reached: 1 at a breach, 2 at 150 %, 3 at 200 %' })),
  overdue: Type.Optional(Type.Boolean({ description: 'computed on read: past resolveBy and not yet resolved' })),
  likelyDuplicates: Type.Optional(
    Type.Array(LikelyDuplicate, {
      description:
        'in the create response only, for staff: open tickets of the category nearby and recent; such a report waits for a dispatcher to merge it or route it',
    }),
  ),
  reworkCount: Type.Integer({ minimum: 0 }),
  reworkRequestedAt: Type.Optional(Timestamp),
  urgeCount: Type.Optional(Type.Integer({ minimum: 1, description: 'how often the reporter (or the hotline for them) chased (催办) it while overdue' })),
  urgedAt: Type.Optional(Timestamp),
  reopenCount: Type.Integer({ minimum: 0 }),
  duplicateOf: Type.Optional(Type.String()),
  rejection: Type.Optional(Type.Object({ reason: RejectReason, note: Type.Optional(Type.String()) })),
  feedback: Type.Optional(Feedback),
  externalId: Type.Optional(Type.String()),
  receivedAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description: "when the report's source received it, before this ticket was made: a hotline's call time (hotline import)",
    }),
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  dispatchedAt: Type.Optional(Timestamp),
  acceptedAt: Type.Optional(Timestamp),
  arrivedAt: Type.Optional(Timestamp),
  resolvedAt: Type.Optional(Timestamp),
  closedAt: Type.Optional(Timestamp),
});
export type Ticket = Static<typeof Ticket>;

export const EVENT_TYPES = [
  'reported',
  'dispatched',
  'returned',
  'reassigned',
  'accepted',
  'arrived',
  'resolved',
  'verified',
  'rework_requested',
  'rework_started',
  'rejected',
  'merged',
  'follower_added',
  'cancelled',
  'reopened',
  'feedback_recorded',
  'extension_requested',
  'extension_approved',
  'extension_refused',
  'deadline_warning',
  'escalated',
  'followup_requested',
  'urged',
] as const;
export type TicketEventType = (typeof EVENT_TYPES)[number];
export const TicketEventType = StringEnum(EVENT_TYPES);

export const TicketEvent = Type.Object({
  id: Type.String(),
  ticketId: Type.String(),
  version: Type.Integer({ description: 'ticket version this event produced' }),
  type: TicketEventType,
  from: Type.Union([TicketStatus, Type.Null()]),
  to: TicketStatus,
  actor: Actor,
  at: Timestamp,
  note: Type.Optional(Note),
  photos: Type.Optional(Type.Array(ShownPhoto)),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type TicketEvent = Static<typeof TicketEvent>;

/** An event as it arrives on the realtime stream: the event plus the stream position to resume from. */
export const StreamEvent = Type.Object({
  streamId: Type.String({ description: 'Pass as Last-Event-ID to resume after this event' }),
  ticketNumber: Type.String(),
  event: TicketEvent,
});
export type StreamEvent = Static<typeof StreamEvent>;
