import { Type, type Static } from '@sinclair/typebox';
import { Note, Photos } from './common.js';
import { FeedbackBody, Priority } from './report.js';
import { StringEnum } from './string-enum.js';
import { RejectReason } from './ticket.js';

const strict = { additionalProperties: false } as const;
const optionalNote = {
  note: Type.Optional(Note),
  expectedVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'fail with CL_ERR_VERSION_CONFLICT unless the ticket is at this version' })),
};

export { Answers, CreateTicketInput, FeedbackBody } from './report.js';

export const DispatchBody = Type.Object(
  {
    unitId: Type.String({ minLength: 1, maxLength: 64 }),
    assigneeId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    priority: Type.Optional(Priority),
    ...optionalNote,
  },
  strict,
);
export const ReassignBody = DispatchBody;
/** A field action taken on a phone without a network and sent later: when it was really done. */
const occurredAt = {
  occurredAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'when the worker did this, for an action taken offline and sent later (the worker app sends it): recorded as the time of the step ' +
        '(acceptedAt, arrivedAt, resolvedAt, and what the on-time rates count), kept between the step before it and now; ' +
        'more than 5 minutes ahead of the gateway is refused',
    }),
  ),
};

export const AcceptBody = Type.Object({ ...optionalNote, ...occurredAt }, strict);
export const ArriveBody = Type.Object(
  { ...optionalNote, ...occurredAt, automatic: Type.Optional(Type.Boolean({ description: 'set by telemetry-driven arrival detection' })) },
  strict,
);
export const ResolveBody = Type.Object({ ...optionalNote, ...occurredAt, photos: Photos }, strict);
export const VerifyBody = Type.Object({ ...optionalNote, outcome: StringEnum(['pass', 'fail'] as const), photos: Type.Optional(Photos) }, strict);
export const ReworkBody = Type.Object(
  {
    ...optionalNote,
    ...occurredAt,
    automatic: Type.Optional(Type.Boolean({ description: "set by telemetry-driven arrival detection: the worker's badge or vehicle came back to the site" })),
  },
  strict,
);
export const ReturnBody = Type.Object({ ...optionalNote, reason: Type.String({ minLength: 1, maxLength: 500 }) }, strict);
export const RejectBody = Type.Object({ ...optionalNote, reason: RejectReason }, strict);
export const MergeBody = Type.Object({ ...optionalNote, into: Type.String({ minLength: 1, maxLength: 64 }) }, strict);
export const CancelBody = Type.Object({ ...optionalNote }, strict);
export const ReopenBody = Type.Object({ ...optionalNote, reason: Type.String({ minLength: 1, maxLength: 500 }) }, strict);

/** Hotline practice: a case may be extended once, by at most ten days. */
export const MAX_EXTENSION_MINUTES = 10 * 24 * 60;

export const RequestExtensionBody = Type.Object(
  {
    ...optionalNote,
    minutes: Type.Integer({ minimum: 1, maximum: MAX_EXTENSION_MINUTES, description: 'how much later the resolve deadline should be' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  strict,
);
export const ReviewExtensionBody = Type.Object({ ...optionalNote, approve: Type.Boolean() }, strict);
/** 催办: the reporter (or a dispatcher taking a hotline chase) presses an overdue report. */
export const UrgeBody = Type.Object({ ...optionalNote }, strict);

/** Every command a ticket accepts after it was reported, by name, with its request body schema. */
export const COMMAND_BODIES = {
  dispatch: DispatchBody,
  reassign: ReassignBody,
  return: ReturnBody,
  accept: AcceptBody,
  arrive: ArriveBody,
  resolve: ResolveBody,
  verify: VerifyBody,
  rework: ReworkBody,
  reject: RejectBody,
  merge: MergeBody,
  cancel: CancelBody,
  reopen: ReopenBody,
  feedback: FeedbackBody,
  request_extension: RequestExtensionBody,
  review_extension: ReviewExtensionBody,
  urge: UrgeBody,
} as const;

export type CommandName = keyof typeof COMMAND_BODIES;
export const COMMAND_NAMES = Object.keys(COMMAND_BODIES) as CommandName[];

export type CommandBodies = { [K in CommandName]: Static<(typeof COMMAND_BODIES)[K]> };

/** A command as the state machine takes it: the body with its name. */
export type TicketCommand = { [K in CommandName]: { type: K } & CommandBodies[K] }[CommandName];
