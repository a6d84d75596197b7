import { Type, type Static } from '@sinclair/typebox';

import { Priority } from './report.js';
import { StringEnum } from './string-enum.js';

export { PRIORITIES, Priority } from './report.js';

export const SlaMinutes = Type.Object({
  respond: Type.Integer({ minimum: 1, description: 'minutes from dispatch to acceptance' }),
  arrive: Type.Integer({ minimum: 1, description: 'minutes from dispatch to arrival on site' }),
  resolve: Type.Integer({ minimum: 1, description: 'minutes from dispatch to resolution' }),
});
export type SlaMinutes = Static<typeof SlaMinutes>;

export const LocalizedName = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });

export const CategoryGroup = Type.Object({
  code: Type.String(),
  name: LocalizedName,
});
export type CategoryGroup = Static<typeof CategoryGroup>;

/** Open311's attribute datatypes: what kind of answer an extra question takes. */
export const QUESTION_DATATYPES = ['string', 'text', 'number', 'datetime', 'singlevaluelist', 'multivaluelist'] as const;
export type QuestionDatatype = (typeof QUESTION_DATATYPES)[number];

/** A name a tenant writes: both languages, neither empty. */
const WrittenName = Type.Object(
  { 'zh-CN': Type.String({ minLength: 1, maxLength: 100 }), en: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
const WrittenText = Type.Object(
  { 'zh-CN': Type.String({ minLength: 1, maxLength: 500 }), en: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

/** An extra question a category asks (an Open311 service definition's attribute). */
export const Question = Type.Object(
  {
    code: Type.String({ pattern: '^[a-z0-9_]{1,40}$', description: "the answer's key in a report's answers (Open311: attribute[code])" }),
    datatype: StringEnum(QUESTION_DATATYPES, {
      description:
        'string (one line), text (several), number, datetime (ISO 8601 with a zone), singlevaluelist (one of values), multivaluelist (any of values)',
    }),
    required: Type.Boolean(),
    order: Type.Integer({ minimum: 1, maximum: 1000, description: 'where it is asked, lowest first' }),
    description: WrittenText,
    help: Type.Optional(
      Type.Object(
        { 'zh-CN': Type.String({ maxLength: 500 }), en: Type.String({ maxLength: 500 }) },
        { additionalProperties: false, description: 'how to answer (Open311: datatype_description)' },
      ),
    ),
    values: Type.Optional(
      Type.Array(Type.Object({ key: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }), name: WrittenName }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 100,
        description: 'the choices of a singlevaluelist or multivaluelist',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Question = Static<typeof Question>;

export const Category = Type.Object({
  code: Type.String({ pattern: '^[a-z0-9_.]+$' }),
  group: Type.String(),
  name: LocalizedName,
  defaultPriority: Priority,
  sla: SlaMinutes,
  skills: Type.Array(Type.String(), { description: 'skills a worker needs to handle it' }),
  private: Type.Boolean({ description: 'its tickets are never shown to readers without credentials (a tenant may change this in policy.categoryVisibility)' }),
  questions: Type.Optional(Type.Array(Question, { maxItems: 30, description: 'extra questions a report of it answers, in order' })),
  disabled: Type.Optional(Type.Boolean({ description: 'the tenant no longer takes reports of it; its tickets keep it' })),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'how often the tenant has defined or changed it; absent for the built-in definition' })),
});
export type Category = Static<typeof Category>;

/** A tenant's definition of a category, new or replacing the built-in one (PUT /v1/categories/{code}). */
export const CategoryDefinition = Type.Object(
  {
    group: Type.String({ minLength: 1, maxLength: 40, description: "one of the catalogue's group codes" }),
    name: WrittenName,
    defaultPriority: Priority,
    sla: SlaMinutes,
    skills: Type.Array(Type.String({ pattern: '^[a-z0-9_]{1,40}$' }), { maxItems: 20 }),
    private: Type.Boolean(),
    questions: Type.Optional(Type.Array(Question, { maxItems: 30 })),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CategoryDefinition = Static<typeof CategoryDefinition>;

/** A change to one category (PATCH /v1/categories/{code}): rename, disable, re-time, ask... */
export const CategoryChange = Type.Object(
  {
    group: Type.Optional(CategoryDefinition.properties.group),
    name: Type.Optional(WrittenName),
    defaultPriority: Type.Optional(Priority),
    sla: Type.Optional(SlaMinutes),
    skills: Type.Optional(CategoryDefinition.properties.skills),
    private: Type.Optional(Type.Boolean()),
    questions: Type.Optional(Type.Array(Question, { maxItems: 30 })),
    disabled: Type.Optional(Type.Boolean()),
    expectedVersion: Type.Optional(
      Type.Integer({ minimum: 0, description: 'refuse the change (409) unless the category is at this version (0: the built-in definition)' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CategoryChange = Static<typeof CategoryChange>;

export const CategoryCatalogue = Type.Object({
  groups: Type.Array(CategoryGroup),
  categories: Type.Array(Category),
  priorities: Type.Array(Type.Object({ code: Priority, slaFactor: Type.Number({ description: 'multiplies the category SLA' }) })),
});
export type CategoryCatalogue = Static<typeof CategoryCatalogue>;
