type Child = Node | string | false | null | undefined;

// Set as properties; everything else is an attribute. Never `style`: a strict CSP refuses it.
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'required', 'multiple', 'selected', 'textContent']);

/** createElement with attributes, listeners (`onclick`) and children: no innerHTML, so no injection. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, unknown> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value as EventListener);
    else if (PROPERTIES.has(name)) (element as unknown as Record<string, unknown>)[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

let counter = 0;
/** Ids for label/aria wiring, unique within the page (ids are scoped to the shadow root anyway). */
export function uid(prefix: string): string {
  return `${prefix}-${++counter}`;
}

/** A 24 px stroked line drawing (a path's `d`), decoration only: hidden from screen readers. */
export function lineIcon(d: string): SVGElement {
  const drawing = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  drawing.setAttribute('viewBox', '0 0 24 24');
  drawing.setAttribute('aria-hidden', 'true');
  drawing.setAttribute('class', 'icon');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', d);
  drawing.append(path);
  return drawing;
}
