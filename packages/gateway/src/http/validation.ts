import { Ajv, type ErrorObject, type Options } from 'ajv';
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

/** One problem ajv found, as the API words it: where (a JSON pointer, "/" for the whole value) and what. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export function validationIssue(error: Pick<ErrorObject, 'keyword' | 'instancePath' | 'params' | 'message'>): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const base = error.instancePath || '';
  if (error.keyword === 'required') return { path: `${base}/${String(params.missingProperty)}`, message: 'is required' };
  if (error.keyword === 'additionalProperties') return { path: `${base}/${String(params.additionalProperty)}`, message: 'is not a known field; remove it' };
  return { path: base || '/', message: error.message ?? 'is invalid' };
}

let exactAjv: Ajv | undefined;

/**
 * A check of one value against a schema, exactly as bodies are checked (formats such as
 * `date-time` included, which TypeBox's `Value.Check` refuses as unknown): the first problem as
 * "/path: message" ("(row): ..." for the whole value), or undefined when the value matches. For
 * parts of a body checked one by one, so that one bad part does not refuse the rest (hotline rows).
 */
export function exactCheck(schema: object): (value: unknown) => string | undefined {
  exactAjv ??= makeAjv({ coerceTypes: false, allErrors: false });
  const validate = exactAjv.compile(schema);
  return (value) => {
    if (validate(value)) return undefined;
    const error = validate.errors?.[0];
    if (!error) return '(row): does not match';
    const { path, message } = validationIssue(error);
    return `${path === '/' ? '(row)' : path}: ${message}`;
  };
}
