import type { FastifyError, FastifyInstance } from 'fastify';
import { CivicLoopError } from '@civicloop/model';

interface ValidationIssue {
  path: string;
  message: string;
}

function describeValidation(error: FastifyError): CivicLoopError {
  const issues: ValidationIssue[] = (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const base = v.instancePath || '';
    if (v.keyword === 'required') return { path: `${base}/${String(params.missingProperty)}`, message: 'is required' };
    if (v.keyword === 'additionalProperties') return { path: `${base}/${String(params.additionalProperty)}`, message: 'is not a known field; remove it' };
    return { path: base || '/', message: v.message ?? 'is invalid' };
  });
  const part = error.validationContext ?? 'body';
  const summary = issues.slice(0, 5).map((i) => `${part}${i.path} ${i.message}`).join('; ');
  return new CivicLoopError('CL_ERR_VALIDATION', `Invalid request: ${summary}.`, { part, issues });
}

/** Maps anything thrown in a request to one catalogue error; unknown errors are logged, not leaked. */
export function toCivicLoopError(error: FastifyError | Error): CivicLoopError {
  if (error instanceof CivicLoopError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return describeValidation(fastifyError);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CivicLoopError('CL_ERR_PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CivicLoopError('CL_ERR_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new CivicLoopError('CL_ERR_BAD_JSON');
    default:
      break;
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) return new CivicLoopError('CL_ERR_BAD_JSON');
  if (/ECONNREFUSED|Connection is closed|MaxRetriesPerRequest|ETIMEDOUT|CLUSTERDOWN/.test(error.message)) {
    return new CivicLoopError('CL_ERR_UNAVAILABLE');
  }
  return new CivicLoopError('CL_ERR_INTERNAL');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toCivicLoopError(error);
    if (mapped.code === 'CL_ERR_INTERNAL' || mapped.code === 'CL_ERR_UNAVAILABLE') {
      request.log.error({ err: error }, 'request failed');
    }
    if (mapped.code === 'CL_ERR_RATE_LIMITED') reply.header('retry-after', String((mapped.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 60));
    if (mapped.code === 'CL_ERR_UNAVAILABLE') reply.header('retry-after', '1');
    return reply.code(mapped.status).send({ error: mapped.toBody(request.id) });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new CivicLoopError('CL_ERR_ROUTE_NOT_FOUND', `No route ${request.method} ${request.url}; see GET /v1/openapi.json.`);
    return reply.code(404).send({ error: error.toBody(request.id) });
  });
}
