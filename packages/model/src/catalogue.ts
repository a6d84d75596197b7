import { CATEGORIES, CATEGORY_GROUPS, PRIORITY_SLA_FACTOR, findCategory } from './categories.js';
import { CivicLoopError } from './errors.js';
import type { Category, CategoryCatalogue, CategoryChange, CategoryDefinition, Priority, Question } from './schemas/category.js';
import type { Answers } from './schemas/report.js';

/** Finds a category by code: the built-in list (findCategory) or a tenant's catalogue. */
export type CategoryLookup = (code: string) => Category | undefined;

/** Codes a tenant gives its own categories: `group_or_area.name`, like the built-in ones. */
export const CATEGORY_CODE = /^[a-z0-9_]{1,30}\.[a-z0-9_]{1,40}$/;

/**
 * A tenant's catalogue: the built-in categories, each replaced by the tenant's own definition
 * where it has one, then the categories the tenant added, by code. Pure: the gateway builds one
 * from what it stores.
 */
export class TenantCatalogue {
  private readonly byCode = new Map<string, Category>();
  private readonly ordered: Category[];

  constructor(own: readonly Category[] = []) {
    for (const category of CATEGORIES) this.byCode.set(category.code, category);
    for (const category of own) this.byCode.set(category.code, category);
    const added = own.filter((c) => !findCategory(c.code)).sort((a, b) => a.code.localeCompare(b.code));
    this.ordered = [...CATEGORIES.map((c) => this.byCode.get(c.code)!), ...added];
  }

  readonly find: CategoryLookup = (code) => this.byCode.get(code);

  /** The catalogue as GET /v1/categories answers it; disabled categories only when asked for. */
  catalogue(options: { includeDisabled?: boolean } = {}): CategoryCatalogue {
    return {
      groups: [...CATEGORY_GROUPS],
      categories: options.includeDisabled ? [...this.ordered] : this.ordered.filter((c) => !c.disabled),
      priorities: (Object.keys(PRIORITY_SLA_FACTOR) as Priority[]).map((code) => ({ code, slaFactor: PRIORITY_SLA_FACTOR[code] })),
    };
  }
}

/** The category a ticket was reported under, as it was then (a tenant may have changed it since). */
export function categoryOf(ticket: { category: string; categoryAsReported?: Category | undefined }): Category | undefined {
  return ticket.categoryAsReported ?? findCategory(ticket.category);
}

const invalid = (message: string, details?: Record<string, unknown>) => new CivicLoopError('CL_ERR_VALIDATION', message, details);

const LISTS: readonly string[] = ['singlevaluelist', 'multivaluelist'];

/** What a schema cannot say about a definition: a known group, questions that make sense together. */
export function checkCategoryDefinition(code: string, definition: CategoryDefinition): void {
  if (!findCategory(code) && !CATEGORY_CODE.test(code)) {
    throw invalid(`A new category's code is group.name in lower case (letters, digits, _), for example sanitation.leaf_litter; got ${code.slice(0, 80)}.`);
  }
  if (!CATEGORY_GROUPS.some((g) => g.code === definition.group)) {
    throw invalid(`group must be one of ${CATEGORY_GROUPS.map((g) => g.code).join(', ')}; got ${definition.group}.`);
  }
  const codes = new Set<string>();
  for (const question of definition.questions ?? []) {
    if (codes.has(question.code)) throw invalid(`Question code ${question.code} is used twice; each question needs its own.`, { question: question.code });
    codes.add(question.code);
    const isList = LISTS.includes(question.datatype);
    if (isList && !question.values) throw invalid(`Question ${question.code} is a ${question.datatype}: give its values.`, { question: question.code });
    if (!isList && question.values) throw invalid(`Question ${question.code} is a ${question.datatype}: only lists take values.`, { question: question.code });
    const keys = new Set(question.values?.map((v) => v.key));
    if (question.values && keys.size !== question.values.length) throw invalid(`Question ${question.code} has a value key twice.`, { question: question.code });
  }
}

/** A category's definition with a change applied (the fields the change names, the rest as they were). */
export function changedDefinition(current: Category, change: CategoryChange): CategoryDefinition {
  const { expectedVersion: _expected, ...fields } = change;
  const base: CategoryDefinition = {
    group: current.group,
    name: current.name,
    defaultPriority: current.defaultPriority,
    sla: current.sla,
    skills: current.skills,
    private: current.private,
    ...(current.questions ? { questions: current.questions } : {}),
    ...(current.disabled ? { disabled: true } : {}),
  };
  return { ...base, ...fields };
}

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/i;

/** The instant an ISO 8601 date-time with its zone names, or NaN: a real calendar day and time only (Date.parse would take 30 February as 2 March). */
function instantOf(text: string): number {
  const m = ISO_WITH_ZONE.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = m.slice(1).map((v) => v ?? undefined) as string[];
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  const fits =
    Number(month) >= 1 &&
    Number(month) <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59;
  return fits ? Date.parse(text) : Number.NaN;
}
const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

const badAnswer = (message: string, details: Record<string, unknown>) => new CivicLoopError('CL_ERR_ANSWER_INVALID', message, details);

function answerTo(question: Question, given: string | number | string[], category: string): string | number | string[] | undefined {
  const wrong = (expected: string) =>
    badAnswer(`The answer to ${question.code} (${question.description.en}) must be ${expected}.`, { question: question.code, category });
  const keys = question.values?.map((v) => v.key) ?? [];
  switch (question.datatype) {
    case 'string':
    case 'text': {
      if (typeof given !== 'string') throw wrong('text');
      const max = question.datatype === 'string' ? 1000 : 4000;
      if (given.length > max) throw wrong(`at most ${max} characters`);
      return given.trim() === '' ? undefined : given;
    }
    case 'number': {
      const value = typeof given === 'number' ? given : typeof given === 'string' && NUMBER_TEXT.test(given) ? Number(given) : Number.NaN;
      if (typeof given === 'string' && given.trim() === '') return undefined;
      if (!Number.isFinite(value)) throw wrong('a number');
      return value;
    }
    case 'datetime': {
      if (typeof given !== 'string') throw wrong('an ISO 8601 date-time with its zone, such as 2026-12-03T09:00:00+08:00');
      if (given.trim() === '') return undefined;
      const at = instantOf(given.trim());
      if (Number.isNaN(at)) throw wrong('an ISO 8601 date-time with its zone, such as 2026-12-03T09:00:00+08:00');
      return new Date(at).toISOString();
    }
    case 'singlevaluelist': {
      if (typeof given !== 'string') throw wrong(`one of ${keys.join(', ')}`);
      if (given === '') return undefined;
      if (!keys.includes(given)) throw wrong(`one of ${keys.join(', ')}`);
      return given;
    }
    case 'multivaluelist': {
      const list = typeof given === 'string' ? (given === '' ? [] : [given]) : given;
      if (!Array.isArray(list) || list.some((k) => typeof k !== 'string' || !keys.includes(k))) throw wrong(`a list of ${keys.join(', ')}`);
      const chosen = [...new Set(list)];
      return chosen.length > 0 ? chosen : undefined;
    }
  }
}

/**
 * A report's answers checked against its category's questions: each answer in the form its
 * question takes (numbers as numbers, date-times in UTC, choices among the values), empty ones
 * left out, every required question answered, nothing answered that was not asked.
 */
export function checkAnswers(category: Category, answers: Answers | undefined): Answers | undefined {
  const questions = category.questions ?? [];
  const byCode = new Map(questions.map((q) => [q.code, q]));
  const out: Answers = {};
  for (const [code, given] of Object.entries(answers ?? {})) {
    const question = byCode.get(code);
    if (!question) {
      throw badAnswer(
        questions.length > 0
          ? `Category ${category.code} asks no question ${code}; it asks ${questions.map((q) => q.code).join(', ')}.`
          : `Category ${category.code} asks no questions; send no answers.`,
        { question: code, category: category.code },
      );
    }
    const value = answerTo(question, given, category.code);
    if (value !== undefined) out[code] = value;
  }
  const missing = questions.filter((q) => q.required && out[q.code] === undefined);
  if (missing.length > 0) {
    throw badAnswer(`Category ${category.code} needs an answer to ${missing.map((q) => `${q.code} (${q.description.en})`).join(', ')}.`, {
      question: missing[0]!.code,
      category: category.code,
    });
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
