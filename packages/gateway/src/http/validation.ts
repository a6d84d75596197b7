import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated exactly: a string where a number belongs is an error, not something to
 * coerce, and unknown fields are refused rather than silently dropped (fastify's defaults do
 * both). Query strings and path parameters arrive as text, so those are coerced.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const exact = makeAjv({ coerceTypes: false, allErrors: true });
  const coercing = makeAjv({ coerceTypes: true, allErrors: true });
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object);
}
