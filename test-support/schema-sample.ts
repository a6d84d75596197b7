/**
 * The smallest value a JSON Schema (as the OpenAPI document has it) accepts, so that a sweep over
 * every route sends bodies the validator lets through and the request reaches the handler's own
 * checks. Strings with a pattern it cannot satisfy come out as "x" and are refused with 400 (the
 * callers count those apart).
 */
export type Schema = Record<string, unknown>;

export function sampleOf(schema: Schema | undefined, components: Record<string, Schema>, depth = 0): unknown {
  if (!schema || depth > 12) return undefined;
  if (typeof schema.$ref === 'string') return sampleOf(components[schema.$ref.split('/').pop()!], components, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const union of ['anyOf', 'oneOf'] as const) {
    const options = schema[union];
    if (Array.isArray(options)) return sampleOf(options.find((o: Schema) => o.type !== 'null') ?? options[0], components, depth + 1);
  }
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s: Schema) => sampleOf(s, components, depth + 1)));
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const out: Record<string, unknown> = {};
      for (const name of (schema.required as string[] | undefined) ?? []) out[name] = sampleOf(properties[name], components, depth + 1);
      return out;
    }
    case 'array': {
      const items = Array.isArray(schema.prefixItems)
        ? (schema.prefixItems as Schema[])
        : Array.from({ length: Number(schema.minItems ?? 0) }, () => schema.items as Schema);
      return items.map((item) => sampleOf(item, components, depth + 1));
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 1;
    case 'boolean':
      return true;
    case 'string': {
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.format === 'uri') return 'https://example.org/x';
      if (schema.format === 'email') return 'x@example.org';
      return 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    }
    default:
      return undefined;
  }
}
