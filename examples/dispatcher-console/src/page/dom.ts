// Small DOM helpers: elements built from attributes and children, never from HTML strings.
const SVG = 'http://www.w3.org/2000/svg';

export type Attrs = Record<string, string | number | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children);
  return node;
}

export function svg(tag: string, attrs: Attrs = {}, ...children: Node[]): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** A labelled field: the control's visible label, tied to it by its id. */
export function field(label: string, control: HTMLElement): HTMLElement {
  return el('div', { class: 'field' }, el('label', { for: control.id }, label), control);
}

/**
 * A form that registers something under a name: its labelled fields and a submit button. On
 * submit, an empty name is said in `status` (and the name field focused); otherwise `submit` runs.
 */
export function namedForm(
  fields: [string, HTMLElement][],
  button: string,
  name: { input: HTMLInputElement; status: HTMLElement; missing: string },
  submit: () => void,
): HTMLFormElement {
  const form = el(
    'form',
    { class: 'register', novalidate: true },
    ...fields.map(([label, control]) => field(label, control)),
    el('button', { type: 'submit' }, button),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!name.input.value.trim()) {
      name.status.textContent = name.missing;
      name.input.focus();
      return;
    }
    submit();
  });
  return form;
}

/** Shows a secret once in `box`, with a button that removes it from the page. */
export function showOnce(box: HTMLElement, ...content: (Node | string)[]): void {
  const close = el('button', { type: 'button', class: 'close-secret' }, 'Done: hide the secret 完成并隐藏');
  close.addEventListener('click', () => {
    box.replaceChildren();
    box.hidden = true;
  });
  box.replaceChildren(...content, close);
  box.hidden = false;
}

/** A choice of unit, "None 无" first. */
export function unitSelect(attrs: Attrs, units: readonly { id: string; name: string }[]): HTMLSelectElement {
  return el('select', attrs, el('option', { value: '' }, 'None 无'), ...units.map((u) => el('option', { value: u.id }, u.name)));
}

/** Sets text only when it changed, so a once-a-second refresh does not touch the layout. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
