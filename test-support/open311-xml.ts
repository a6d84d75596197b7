import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reads a GeoReport v2 XML document the way the spec's JSON is derived from it (its "Spark
 * convention": a list element becomes an array of its items, an element with children an object,
 * text a string), with fast-xml-parser after its validator has found it well-formed. The list
 * and item names are the spec's own, from its examples (`<services><service>`, `<service_requests>
 * <request>`, `<errors><error>`, `<endpoints><endpoint>`, `<formats><format>`, `<attributes>
 * <attribute>`, `<values><value>`).
 */
const ITEMS: Record<string, string> = {
  services: 'service',
  service_requests: 'request',
  errors: 'error',
  endpoints: 'endpoint',
  formats: 'format',
  attributes: 'attribute',
  values: 'value',
};

const parser = new XMLParser({
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => Object.values(ITEMS).includes(name),
});

export interface Open311Document {
  /** The XML declaration as sent. */
  declaration: string;
  /** The document element's name. */
  root: string;
  /** Its content, as the spec's JSON would hold it (all values as text). */
  body: unknown;
}

function spark(name: string, value: unknown): unknown {
  const item = ITEMS[name];
  if (item) {
    // An empty list is an empty element.
    if (value === '') return [];
    const items = (value as Record<string, unknown[]>)[item] ?? [];
    return items.map((v) => spark(item, v));
  }
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, spark(k, v)]));
  return value;
}

/** XML 1.0's Char production: fast-xml-parser's validator lets control characters through, expat does not. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function readOpen311Xml(text: string): Open311Document {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) throw new Error(`not well-formed XML: U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${bad.index} is not an XML 1.0 character`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} at line ${valid.err.line}`);
  const declaration = /^<\?xml[^>]*\?>/.exec(text)?.[0] ?? '';
  const parsed = parser.parse(text) as Record<string, unknown>;
  const roots = Object.keys(parsed);
  if (roots.length !== 1) throw new Error(`expected one document element, found ${roots.join(', ')}`);
  const root = roots[0]!;
  return { declaration, root, body: spark(root, parsed[root]) };
}

/** A JSON answer with every value as the text XML carries (null as empty). */
export function asXmlText(value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(asXmlText);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asXmlText(v)]));
  return String(value);
}
