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

/** Sets text only when it changed, so a once-a-second refresh does not touch the layout. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
