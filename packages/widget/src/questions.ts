import type { Answers, Category, Question } from '@civicloop/sdk';
import { h, uid } from './dom.js';
import type { Language, Translate } from './i18n.js';

export interface QuestionFields {
  element: HTMLElement;
  /** Asks the chosen category's questions (none: the fieldset hides). */
  show(category: Category | undefined): void;
  /**
   * The answers given, in the form each question takes; or the first question that needs another
   * answer, with focus put on it.
   */
  answers(): { answers: Answers | undefined } | { missing: string };
}

interface Asked {
  question: Question;
  read(): string | number | string[] | undefined;
  /** The control that takes focus when the answer must change. */
  focusable: HTMLElement;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The category's extra questions, asked below the type of problem: one line or several, a
 * number, a date and time (sent as ISO 8601 in UTC), a single choice (a drop-down) or several
 * (checkboxes), each labelled in the resident's language with its help beneath and required ones
 * marked as the other required fields are.
 */
// Long: a component without a framework: its elements, its state and their event handlers share one scope.
export function questionFields(options: { t: Translate; language: Language }): QuestionFields {
  const { t, language } = options;
  const element = h('fieldset', { part: 'questions', hidden: true });
  let asked: Asked[] = [];

  function field(question: Question): { node: HTMLElement; asked: Asked } {
    const id = uid(`cl-q-${question.code}`);
    const helpId = question.help?.[language] ? uid('cl-q-help') : undefined;
    const help = helpId ? h('p', { id: helpId, class: 'hint' }, question.help![language]) : '';
    const mark = question.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : '';
    const described = helpId ? { 'aria-describedby': helpId } : {};
    const common = { id, name: question.code, required: question.required, part: 'input', 'data-question': question.code, ...described };
    switch (question.datatype) {
      case 'multivaluelist': {
        const boxes = (question.values ?? []).map((v) => h('input', { type: 'checkbox', value: v.key, name: question.code }));
        const group = h(
          'fieldset',
          { 'data-question': question.code, ...described, ...(question.required ? { 'aria-required': 'true' } : {}) },
          h('legend', {}, question.description[language], mark),
          ...boxes.map((box, i) => h('label', { class: 'check' }, box, question.values![i]!.name[language])),
          help,
        );
        return { node: group, asked: { question, focusable: boxes[0] ?? group, read: () => boxes.filter((b) => b.checked).map((b) => b.value) } };
      }
      case 'singlevaluelist': {
        const select = h(
          'select',
          common,
          h('option', { value: '' }, t('questionChoose')),
          ...(question.values ?? []).map((v) => h('option', { value: v.key }, v.name[language])),
        );
        return {
          node: h('div', {}, h('label', { for: id }, question.description[language], mark), select, help),
          asked: { question, focusable: select, read: () => select.value },
        };
      }
      case 'text': {
        const area = h('textarea', { ...common, maxlength: 4000 });
        return {
          node: h('div', {}, h('label', { for: id }, question.description[language], mark), area, help),
          asked: { question, focusable: area, read: () => area.value.trim() },
        };
      }
      case 'number': {
        const input = h('input', { ...common, type: 'text', inputmode: 'decimal', maxlength: 30 });
        const read = () => (input.value.trim() === '' ? undefined : NUMBER.test(input.value) ? Number(input.value) : Number.NaN);
        return { node: h('div', {}, h('label', { for: id }, question.description[language], mark), input, help), asked: { question, focusable: input, read } };
      }
      case 'datetime': {
        // datetime-local is the device's own time: made an instant here, so it travels with its zone.
        const input = h('input', { ...common, type: 'datetime-local' });
        const read = () => (input.value ? new Date(input.value).toISOString() : undefined);
        return { node: h('div', {}, h('label', { for: id }, question.description[language], mark), input, help), asked: { question, focusable: input, read } };
      }
      default: {
        const input = h('input', { ...common, type: 'text', maxlength: 1000 });
        return {
          node: h('div', {}, h('label', { for: id }, question.description[language], mark), input, help),
          asked: { question, focusable: input, read: () => input.value.trim() },
        };
      }
    }
  }

  return {
    element,
    show(category) {
      const questions = [...(category?.questions ?? [])].sort((a, b) => a.order - b.order);
      const fields = questions.map(field);
      asked = fields.map((f) => f.asked);
      element.replaceChildren(...(fields.length ? [h('legend', {}, t('questions')), ...fields.map((f) => f.node)] : []));
      element.hidden = fields.length === 0;
    },
    answers() {
      const out: Answers = {};
      for (const { question, read, focusable } of asked) {
        focusable.removeAttribute('aria-invalid');
        const value = read();
        const empty = value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
        const wrong = typeof value === 'number' && !Number.isFinite(value);
        if ((question.required && empty) || wrong) {
          focusable.setAttribute('aria-invalid', 'true');
          focusable.focus();
          return { missing: question.description[language] };
        }
        if (!empty) out[question.code] = value;
      }
      return { answers: Object.keys(out).length > 0 ? out : undefined };
    },
  };
}
