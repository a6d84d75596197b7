import { Type, type Static } from '@sinclair/typebox';

import { Priority } from './report.js';

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

export const Category = Type.Object({
  code: Type.String({ pattern: '^[a-z0-9_.]+$' }),
  group: Type.String(),
  name: LocalizedName,
  defaultPriority: Priority,
  sla: SlaMinutes,
  skills: Type.Array(Type.String(), { description: 'skills a worker needs to handle it' }),
  private: Type.Boolean({ description: 'its tickets are never shown to readers without credentials (a tenant may change this in policy.categoryVisibility)' }),
});
export type Category = Static<typeof Category>;

export const CategoryCatalogue = Type.Object({
  groups: Type.Array(CategoryGroup),
  categories: Type.Array(Category),
  priorities: Type.Array(
    Type.Object({ code: Priority, slaFactor: Type.Number({ description: 'multiplies the category SLA' }) }),
  ),
});
export type CategoryCatalogue = Static<typeof CategoryCatalogue>;
