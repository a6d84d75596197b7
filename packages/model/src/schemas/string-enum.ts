import { Kind, TypeRegistry, Unsafe, type TSchema, type TUnsafe } from '@sinclair/typebox';

// Registered by the first StringEnum call rather than at module load: a bundler that trusts this
// package's "sideEffects": false would drop a bare top-level registration, and Value.Check in
// the browser would then throw "Unknown type".
function register(): void {
  if (!TypeRegistry.Has('StringEnum'))
    TypeRegistry.Set('StringEnum', (schema: { enum: string[] }, value) => typeof value === 'string' && schema.enum.includes(value));
}

/**
 * A string union as `{ type: 'string', enum: [...] }` rather than TypeBox's anyOf of consts:
 * the same static type and Value.Check result, but a plain enum for ajv, for fast-json-stringify
 * (which would otherwise try each branch at run time) and for readers of the OpenAPI document.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  register();
  return Unsafe<T[number]>({ [Kind]: 'StringEnum', type: 'string', enum: [...values], ...options }) as TUnsafe<T[number]> & TSchema;
}
