import type { CategoryCatalogue } from '@civicloop/sdk';
import { h, lineIcon, uid } from './dom.js';
import type { Language, Translate } from './i18n.js';

/** One line drawing per group (24 px, stroked): decoration beside the group's name, hidden from screen readers. */
const GROUP_ICONS: Record<string, string> = {
  recent: 'M12 7v5l3 2M21 12a9 9 0 1 1-9-9 9 9 0 0 1 9 9z',
  sanitation: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6',
  order: 'M12 3l8 17H4zM8 14h8',
  municipal: 'M8 21h8M12 21V8M12 8c0-3 2-5 5-5h2v3h-3',
  greenery: 'M12 21v-5M12 3l6 9h-3l4 4H5l4-4H6z',
  gas: 'M12 3c3 4 6 7 6 11a6 6 0 0 1-12 0c0-3 2-5 3-6 0 2 1 4 3 4 0-3-2-5 0-9z',
  construction: 'M3 21h18M5 21V9l7-5 7 5v12M9 21v-6h6v6',
  hygiene: 'M12 8a4 5 0 1 0 .01 0M12 3v5M6 9l3 2M18 9l-3 2M6 17l3-2M18 17l-3-2',
  other: 'M5 12h.01M12 12h.01M19 12h.01',
};

const icon = (group: string) => lineIcon(GROUP_ICONS[group] ?? GROUP_ICONS.other!);

export interface CategoryPicker {
  element: HTMLElement;
  /** The catalogue, with the categories used recently on this device first. */
  fill(catalogue: CategoryCatalogue, recent: string[]): void;
  value(): string;
  /** Marks the choice missing (or not), and puts focus where the resident chooses. */
  invalid(missing: boolean): void;
  reset(): void;
}

/**
 * The type of problem as a grid: the groups as tiles with an icon (a group opens to its types,
 * also tiles), the recently used types first, and a search over every type's name in both
 * languages that opens the groups it matches. The types are one set of radio buttons, so the
 * keyboard and screen readers get a native choice.
 */
// Long: a component without a framework: its elements, its state and their event handlers share one scope.
export function categoryPicker(options: { t: Translate; language: Language; onChange: () => void }): CategoryPicker {
  const { t, language } = options;
  const ids = { search: uid('cl-search'), error: uid('cl-category-err') };
  const search = h('input', { id: ids.search, type: 'search', part: 'input', autocomplete: 'off', oninput: () => filter() });
  const groups = h('div', { class: 'groups' });
  const none = h('p', { class: 'hint', hidden: true }, t('categoryNone'));
  const error = h('p', { id: ids.error, class: 'error', hidden: true });
  const element = h(
    'fieldset',
    {
      class: 'categories',
      part: 'categories',
      'aria-describedby': ids.error,
      onchange: () => {
        // A choice made: the "please choose" goes.
        error.hidden = true;
        element.removeAttribute('aria-invalid');
        options.onChange();
      },
    },
    h('legend', {}, t('category'), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    h('label', { for: ids.search }, t('categorySearch')),
    search,
    groups,
    none,
    error,
  );
  let names = new Map<string, string>();

  const radios = () => [...groups.querySelectorAll<HTMLInputElement>('input[type=radio]')];

  function tile(code: string, name: string): HTMLElement {
    return h(
      'label',
      { class: 'tile', 'data-category': code },
      h('input', { type: 'radio', name: 'category', value: code, required: true }),
      h('span', {}, name),
    );
  }

  function group(code: string, title: string, members: { code: string; name: string }[], open: boolean): HTMLElement {
    return h(
      'details',
      { class: 'group', 'data-group': code, ...(open ? { open: true } : {}) },
      h('summary', {}, icon(code), h('span', {}, title), h('span', { class: 'count' }, ` ${members.length}`)),
      h(
        'div',
        { class: 'tiles' },
        members.map((m) => tile(m.code, m.name)),
      ),
    );
  }

  /** Only the types whose name (either language) or code holds the search; their groups open. */
  function filter(): void {
    const needle = search.value.trim().toLowerCase();
    let shown = 0;
    for (const details of groups.querySelectorAll<HTMLDetailsElement>('details')) {
      let matches = 0;
      for (const label of details.querySelectorAll<HTMLElement>('.tile')) {
        const code = label.dataset.category!;
        const hit = !needle || code.includes(needle) || (names.get(code) ?? '').includes(needle);
        label.hidden = !hit;
        if (hit) matches++;
      }
      details.hidden = matches === 0;
      shown += matches;
      if (needle) details.open = matches > 0;
    }
    none.hidden = shown > 0;
  }

  return {
    element,
    fill(catalogue, recent) {
      const chosen = radios().find((r) => r.checked)?.value;
      names = new Map(catalogue.categories.map((c) => [c.code, `${c.name['zh-CN']} ${c.name.en}`.toLowerCase()]));
      const nameOf = (code: string) => catalogue.categories.find((c) => c.code === code)?.name[language] ?? code;
      const recentHere = recent.filter((code) => names.has(code));
      groups.replaceChildren(
        ...(recentHere.length
          ? [
              group(
                'recent',
                t('categoryRecent'),
                recentHere.map((code) => ({ code, name: nameOf(code) })),
                true,
              ),
            ]
          : []),
        ...catalogue.groups.map((g) => {
          const members = catalogue.categories
            .filter((c) => c.group === g.code && !recentHere.includes(c.code))
            .map((c) => ({ code: c.code, name: c.name[language] }));
          return members.length ? group(g.code, g.name[language], members, false) : '';
        }),
      );
      const again = radios().find((r) => r.value === chosen);
      if (again) {
        again.checked = true;
        (again.closest('details') as HTMLDetailsElement).open = true;
      }
      filter();
    },
    value: () => radios().find((r) => r.checked)?.value ?? '',
    invalid(missing) {
      error.hidden = !missing;
      error.textContent = missing ? t('invalid', { f: t('category') }) : '';
      if (!missing) return element.removeAttribute('aria-invalid');
      element.setAttribute('aria-invalid', 'true');
      const first = radios().find((r) => r.checkVisibility?.() ?? true);
      (first ?? search).focus();
    },
    reset() {
      search.value = '';
      for (const r of radios()) r.checked = false;
      for (const details of groups.querySelectorAll<HTMLDetailsElement>('details')) details.open = details.dataset.group === 'recent';
      error.hidden = true;
      filter();
    },
  };
}
