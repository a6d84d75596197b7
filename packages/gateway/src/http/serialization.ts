import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Schema = Record<string, unknown>;

function isNullSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Schema).type === 'null' && Object.keys(schema).length === 1;
}

/** A branch that fast-json-stringify can write by its declared type alone: one type, no reference, no further choice. */
function isPlainTyped(schema: unknown): schema is Schema {
  if (typeof schema !== 'object' || schema === null) return false;
  const s = schema as Schema;
  return typeof s.type === 'string' && s.type !== 'null' && s.$ref === undefined && s.anyOf === undefined && s.oneOf === undefined && s.allOf === undefined;
}

/**
 * The schema with every "this or null" (`anyOf: [X, {type: 'null'}]`, which is how TypeBox writes
 * `Type.Union([X, Type.Null()])`) turned into `X` with `nullable: true`. fast-json-stringify
 * writes an `anyOf` by running an ajv validation of each branch against the value until one
 * matches, on every response: for a command's answer that validated the whole event, and its
 * `from` status, for every transition. With `nullable` it checks for null and writes the value
 * by its type. The output is the same for any value the route's schema allows; only the
 * serialiser sees the rewritten schema (validation and the OpenAPI document keep the union).
 */
export function withNullableUnions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withNullableUnions);
  if (typeof schema !== 'object' || schema === null) return schema;
  const source = schema as Schema;
  const anyOf = source.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some(isNullSchema)) {
    const other = anyOf.find((branch) => !isNullSchema(branch));
    if (isPlainTyped(other)) {
      const { anyOf: _union, ...siblings } = source;
      return withNullableUnions({ ...other, ...siblings, nullable: true });
    }
  }
  const out: Schema = {};
  for (const key of Object.keys(source)) out[key] = withNullableUnions(source[key]);
  return out;
}

/**
 * fastify's own serializer factory (fast-json-stringify with the schemas added by `addSchema`),
 * given each response schema with its nullable unions rewritten (above). For the
 * `schemaController.compilersFactory.buildSerializer` option, so that shared schemas still resolve.
 */
export function buildSerializer(externalSchemas?: unknown, options?: Parameters<ReturnType<typeof SerializerSelector>>[1]) {
  const compile = SerializerSelector()(externalSchemas, options);
  return (route: { schema?: unknown; method: string; url: string; httpStatus: string }) => compile({ ...route, schema: withNullableUnions(route.schema) });
}
