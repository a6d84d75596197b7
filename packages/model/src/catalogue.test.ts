import { describe, expect, it } from 'vitest';
import { CATEGORIES, findCategory } from './categories.js';
import { TenantCatalogue, categoryOf, changedDefinition, checkAnswers, checkCategoryDefinition } from './catalogue.js';
import { CivicLoopError } from './errors.js';
import type { Category } from './schemas/category.js';

const BIN = findCategory('sanitation.bin_overflow')!;
const ASKING: Category = {
  ...BIN,
  version: 2,
  questions: [
    {
      code: 'size',
      datatype: 'singlevaluelist',
      required: true,
      order: 1,
      description: { 'zh-CN': '多大', en: 'How big' },
      values: [
        { key: 's', name: { 'zh-CN': '小', en: 'S' } },
        { key: 'l', name: { 'zh-CN': '大', en: 'L' } },
      ],
    },
    {
      code: 'tags',
      datatype: 'multivaluelist',
      required: false,
      order: 2,
      description: { 'zh-CN': '标签', en: 'Tags' },
      values: [
        { key: 'a', name: { 'zh-CN': '甲', en: 'A' } },
        { key: 'b', name: { 'zh-CN': '乙', en: 'B' } },
      ],
    },
    { code: 'n', datatype: 'number', required: false, order: 3, description: { 'zh-CN': '数', en: 'N' } },
    { code: 'at', datatype: 'datetime', required: false, order: 4, description: { 'zh-CN': '时', en: 'At' } },
    { code: 'note', datatype: 'string', required: false, order: 5, description: { 'zh-CN': '注', en: 'Note' } },
  ],
};
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof CivicLoopError ? `${error.code} ${String((error.details as { question?: string } | undefined)?.question)}` : 'other';
  }
  return 'none';
};

describe('checkAnswers', () => {
  it('keeps each answer in the form its question takes and leaves empty ones out', () => {
    expect(checkAnswers(ASKING, { size: 'l', tags: 'a', n: ' 2.5 ', at: '2026-12-03T09:30:00+08:00', note: '' })).toEqual({
      size: 'l',
      tags: ['a'],
      n: 2.5,
      at: '2026-12-03T01:30:00.000Z',
    });
    expect(checkAnswers(ASKING, { size: 's', tags: ['b', 'a', 'b'], n: 0 })).toEqual({ size: 's', tags: ['b', 'a'], n: 0 });
    expect(checkAnswers(BIN, undefined)).toBeUndefined();
    expect(checkAnswers(BIN, {})).toBeUndefined();
  });

  it('names the question that needs another answer', () => {
    expect(codeOf(() => checkAnswers(ASKING, {}))).toBe('CL_ERR_ANSWER_INVALID size');
    expect(codeOf(() => checkAnswers(ASKING, { size: '' }))).toBe('CL_ERR_ANSWER_INVALID size');
    expect(codeOf(() => checkAnswers(ASKING, { size: ['s'] }))).toBe('CL_ERR_ANSWER_INVALID size');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', tags: ['c'] }))).toBe('CL_ERR_ANSWER_INVALID tags');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', n: '1e999' }))).toBe('CL_ERR_ANSWER_INVALID n');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', n: '0x10' }))).toBe('CL_ERR_ANSWER_INVALID n');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', at: '2026-02-30T10:00:00Z' }))).toBe('CL_ERR_ANSWER_INVALID at');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', note: 'x'.repeat(1001) }))).toBe('CL_ERR_ANSWER_INVALID note');
    expect(codeOf(() => checkAnswers(ASKING, { size: 's', other: 'x' }))).toBe('CL_ERR_ANSWER_INVALID other');
    expect(codeOf(() => checkAnswers(BIN, { size: 's' }))).toBe('CL_ERR_ANSWER_INVALID size');
  });
});

describe('TenantCatalogue', () => {
  it("puts the tenant's definitions in place of the built-in ones, its new ones after, and hides disabled ones unless asked", () => {
    const added: Category = { ...BIN, code: 'sanitation.leaves', version: 1 };
    const off: Category = { ...findCategory('gas.leak')!, disabled: true, version: 1 };
    const catalogue = new TenantCatalogue([added, ASKING, off]);
    expect(catalogue.find('sanitation.bin_overflow')).toBe(ASKING);
    expect(catalogue.find('municipal.railing')).toBe(findCategory('municipal.railing'));
    const all = catalogue.catalogue({ includeDisabled: true }).categories.map((c) => c.code);
    expect(all).toEqual([...CATEGORIES.map((c) => c.code), 'sanitation.leaves']);
    expect(catalogue.catalogue().categories.map((c) => c.code)).not.toContain('gas.leak');
    // The built-in list itself is untouched.
    expect(findCategory('sanitation.bin_overflow')?.questions).toBeUndefined();
  });

  it('gives a ticket its category as reported, else the built-in one', () => {
    expect(categoryOf({ category: 'sanitation.bin_overflow', categoryAsReported: ASKING })).toBe(ASKING);
    expect(categoryOf({ category: 'sanitation.bin_overflow' })).toBe(BIN);
    expect(categoryOf({ category: 'nowhere.none' })).toBeUndefined();
  });
});

describe('category definitions', () => {
  it('applies a change to the fields it names and refuses definitions that cannot work', () => {
    const changed = changedDefinition(ASKING, { disabled: true, sla: { respond: 1, arrive: 2, resolve: 3 }, expectedVersion: 2 });
    expect(changed).toMatchObject({ disabled: true, sla: { respond: 1, arrive: 2, resolve: 3 }, name: BIN.name, questions: ASKING.questions });
    expect(changed).not.toHaveProperty('expectedVersion');
    const { code: _code, version: _version, ...definition } = ASKING;
    expect(codeOf(() => checkCategoryDefinition('sanitation.bin_overflow', definition))).toBe('none');
    expect(codeOf(() => checkCategoryDefinition('leaves', definition))).toMatch(/^CL_ERR_VALIDATION/);
    expect(codeOf(() => checkCategoryDefinition('sanitation.leaves', { ...definition, group: 'parks' }))).toMatch(/^CL_ERR_VALIDATION/);
    expect(codeOf(() => checkCategoryDefinition('sanitation.leaves', { ...definition, questions: [ASKING.questions![0]!, ASKING.questions![0]!] }))).toBe(
      'CL_ERR_VALIDATION size',
    );
    expect(
      codeOf(() =>
        checkCategoryDefinition('sanitation.leaves', {
          ...definition,
          questions: [{ ...ASKING.questions![2]!, values: [{ key: 'x', name: { 'zh-CN': 'x', en: 'x' } }] }],
        }),
      ),
    ).toBe('CL_ERR_VALIDATION n');
    expect(
      codeOf(() =>
        checkCategoryDefinition('sanitation.leaves', {
          ...definition,
          questions: [
            {
              ...ASKING.questions![0]!,
              values: [
                { key: 's', name: { 'zh-CN': 'x', en: 'x' } },
                { key: 's', name: { 'zh-CN': 'y', en: 'y' } },
              ],
            },
          ],
        }),
      ),
    ).toBe('CL_ERR_VALIDATION size');
  });
});
