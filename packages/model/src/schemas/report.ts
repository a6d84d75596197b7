/**
 * What a resident's browser sends: the report and the follow-up rating. Kept in a module of its
 * own, built from TypeBox's named builders, so the widget validates with the very schemas the
 * gateway enforces (Value.Check, no eval) without shipping the rest of the model.
 */
import {
  Array as TypeArray,
  Boolean as TypeBoolean,
  Integer,
  Number as TypeNumber,
  Object as TypeObject,
  Optional,
  String as TypeString,
  Union,
  type Static,
  type TRecord,
  type TString,
} from '@sinclair/typebox';
import { Location, Photos } from './common.js';
import { StringEnum } from './string-enum.js';

const strict = { additionalProperties: false } as const;

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export const Priority = StringEnum(PRIORITIES);
export type Priority = Static<typeof Priority>;

export const CHANNELS = ['widget', 'app', 'sdk', 'patrol', 'hotline', 'inspection', 'device', 'video'] as const;
export type Channel = (typeof CHANNELS)[number];
export const Channel = StringEnum(CHANNELS);

/**
 * Answers to the category's extra questions, by question code: text, a number or a date-time for
 * one answer (a number may come as its text, as forms send it), a list for a multiple choice.
 * Checked against the questions when the report is made.
 */
const Answer = Union([TypeString({ maxLength: 4000 }), TypeNumber(), TypeArray(TypeString({ maxLength: 40 }), { maxItems: 100 })]);
// An object whose every property is an answer, written without TypeBox's Record builder: that
// builder brings its template-literal parser into the widget (about 4 KB). Value.Check checks
// the answers and their count; the gateway's ajv checks the codes too (propertyNames).
export const Answers = TypeObject(
  {},
  {
    additionalProperties: Answer,
    propertyNames: { pattern: '^[a-z0-9_]{1,40}$' },
    maxProperties: 30,
    description: "answers to the category's questions, by question code",
  },
) as unknown as TRecord<TString, typeof Answer>;
export type Answers = Static<typeof Answers>;

export const CreateTicketInput = TypeObject(
  {
    category: TypeString({ minLength: 1, maxLength: 64, description: 'A code from GET /v1/categories' }),
    description: TypeString({ minLength: 1, maxLength: 4000 }),
    location: Location,
    photos: Optional(Photos),
    priority: Optional(Priority),
    channel: Optional(Channel),
    contact: Optional(TypeString({ maxLength: 100, description: 'How to reach the reporter; visible to staff only' })),
    reporterName: Optional(TypeString({ maxLength: 100 })),
    anonymous: Optional(TypeBoolean({ description: 'Hide the reporter from workers' })),
    externalId: Optional(TypeString({ maxLength: 128, description: 'Id in the system the report came from (hotline record)' })),
    answers: Optional(Answers),
  },
  strict,
);
export type CreateTicketInput = Static<typeof CreateTicketInput>;

export const FOLLOW_UP_MEANS = ['app', 'phone', 'sms', 'visit'] as const;

export const FeedbackBody = TypeObject(
  {
    rating: Integer({ minimum: 1, maximum: 5 }),
    comment: Optional(TypeString({ maxLength: 1000 })),
    via: Optional(
      StringEnum(FOLLOW_UP_MEANS, {
        description: 'how the reporter was asked: app (default for the reporter themselves) or, recorded by a hotline agent, phone, sms or visit',
      }),
    ),
    expectedVersion: Optional(Integer({ minimum: 1 })),
  },
  strict,
);
export type FeedbackBody = Static<typeof FeedbackBody>;
