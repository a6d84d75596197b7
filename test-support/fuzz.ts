import fc from 'fast-check';

/** The part of JSON Schema the OpenAPI document uses. */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

/** Strings that have broken parsers, routers and stores elsewhere. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '../../etc/passwd',
  '%00',
  '%',
  '%E0%A4%A',
  '\u202e\u0000\ud800',
  '<script>alert(1)</script>',
  "'; DROP TABLE tickets; --",
  '{"$ne": null}',
  '__proto__',
  'constructor',
  '1e309',
  'NaN',
  '-0',
  '9'.repeat(400),
  'x'.repeat(5000),
  '🚮'.repeat(300),
  'cl:{t_x}:ticket:*',
  '*',
  '\r\nSet-Cookie: a=b',
];

/** Numbers that have broken validators, dates and geo indexes elsewhere. */
export const HOSTILE_NUMBERS = [0, -0, -1, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 8.64e15 + 1, 1e21, 0.1 + 0.2, 91, -181, 85.06, 4294967296, Number.MIN_VALUE];

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const hostileNumber = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.double({ noNaN: true }), fc.integer());
/** Any JSON value, bounded, including deep nesting. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  hostileString,
  hostileNumber,
  fc.constant(JSON.parse('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')),
  fc.constant({ __proto__: { admin: true } }),
);

function stringFor(schema: Schema): fc.Arbitrary<string> {
  const max = Math.min(schema.maxLength ?? 60, 200);
  const min = schema.minLength ?? 0;
  if (schema.format === 'date-time')
    return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.constantFrom('https://hooks.example.org/x', 'https://example.com/a?b=c');
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
    } catch {
      // A pattern fast-check cannot generate from: fall through to plain strings.
    }
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, max) });
}

/** Good values for fields by name (a category code, a unit id...), so that requests reach the handlers. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/** Values that (mostly) match the schema: what a careful client would send. */
export function valid(schema: Schema, depth = 0, hints: Hints = {}): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union?.length) return fc.oneof(...union.map((s) => valid(s, depth + 1, hints)));
  if (schema.allOf?.length) return valid(Object.assign({}, ...schema.allOf) as Schema, depth + 1, hints);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer': {
      const min = Math.ceil(Math.max(schema.minimum ?? -1000, -(2 ** 31)));
      return fc.integer({ min, max: Math.max(min, Math.floor(Math.min(schema.maximum ?? min + 100_000, 2 ** 31))) });
    }
    case 'number': {
      const min = schema.minimum ?? -1000;
      return fc.double({ min, max: Math.max(min, schema.maximum ?? min + 100_000), noNaN: true, noDefaultInfinity: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      if (depth > 4) return fc.constant([]);
      return fc.array(valid(schema.items ?? {}, depth + 1, hints), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      if (depth > 4) return fc.constant({});
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const field = (k: string, s: Schema) =>
        hints[k] ? fc.oneof({ weight: 4, arbitrary: hints[k]! }, { weight: 1, arbitrary: valid(s, depth + 1, hints) }) : valid(s, depth + 1, hints);
      return fc.record(Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, field(k, s)])), {
        requiredKeys: [...required].filter((k) => k in properties),
      });
    }
    default:
      return anyJson;
  }
}

/** One field of a valid value broken: wrong type, out of range, unknown, or hostile text. */
export function hostile(schema: Schema, hints: Hints = {}): fc.Arbitrary<unknown> {
  const broken = fc.oneof(hostileString, hostileNumber, fc.constant(null), fc.constant(true), fc.constant([]), fc.constant({}), anyJson);
  const good = valid(schema, 0, hints);
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(good, fc.nat(), broken).map(([value, pick, replacement]) => breakOne(value, pick, replacement)) },
    { weight: 3, arbitrary: good },
    {
      weight: 1,
      arbitrary: fc.tuple(good, hostileString, anyJson).map(([value, key, extra]) => (isObject(value) ? { ...value, [key || 'unknown']: extra } : value)),
    },
    { weight: 1, arbitrary: anyJson },
  );
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function breakOne(value: unknown, pick: number, replacement: unknown): unknown {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return replacement;
    const key = keys[pick % keys.length]!;
    return { ...value, [key]: pick % 3 === 0 ? breakOne(value[key], Math.floor(pick / 3), replacement) : replacement };
  }
  if (Array.isArray(value) && value.length > 0) {
    const copy = [...value];
    copy[pick % copy.length] = breakOne(copy[pick % copy.length], Math.floor(pick / 3), replacement);
    return copy;
  }
  return replacement;
}

/** Hostile text for a path segment, a query value or a header. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(hostileString, fc.integer().map(String), fc.constantFrom('true', 'false', 'null', '[]', '{}'));
