/**
 * GeoReport v2's XML: the same values as its JSON, as elements. A list is an element holding one
 * child per item, named as the spec names them (`<services><service>`, `<service_requests>
 * <request>`, `<errors><error>`, `<attributes><attribute>`...); null is an empty element; text is
 * escaped, and characters XML 1.0 cannot carry (control characters, lone surrogates) become
 * U+FFFD, so a resident's description can never make a document a client fails to parse.
 */

/** The child element of each list the spec's documents hold. */
const ITEM_OF: Readonly<Record<string, string>> = {
  services: 'service',
  service_requests: 'request',
  errors: 'error',
  endpoints: 'endpoint',
  formats: 'format',
  attributes: 'attribute',
  values: 'value',
};

/** The document elements GeoReport v2 answers with. */
export type Open311Root = 'discovery' | 'services' | 'service_definition' | 'service_requests' | 'errors';

const NOT_IN_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ESCAPED: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function text(value: string): string {
  return value.replace(NOT_IN_XML, '\uFFFD').replace(/[&<>]/g, (c) => ESCAPED[c]!);
}

function element(name: string, value: unknown): string {
  if (value === null || value === undefined) return `<${name}/>`;
  if (Array.isArray(value)) {
    const item = ITEM_OF[name];
    // Every list we answer with has a name in the table: a new one must be added there.
    if (!item) throw new Error(`Open311 XML: no item element for the list ${name}`);
    return `<${name}>${value.map((v) => element(item, v)).join('')}</${name}>`;
  }
  if (typeof value === 'object')
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => element(k, v))
      .join('')}</${name}>`;
  return `<${name}>${text(String(value))}</${name}>`;
}

/** A whole document: the XML declaration the spec requires, then the root element. */
export function toOpen311Xml(root: Open311Root, body: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, body)}\n`;
}
