import type { FastifyInstance } from 'fastify';
import { retryAfterOf, toCivicLoopError } from '../../http/error-handler.js';
import { answer, formatAsked } from './answer.js';

/** Open311's own ways for the routes under it: CORS on reads, errors and unknown paths in the spec's format. */
export function installOpen311Plumbing(app: FastifyInstance): void {
  // Open311 routes need no key: the gateway's shared per-address limit for keyless routes
  // (RATE_LIMIT_KEYLESS_PER_ADDRESS) holds them, and a 429 comes in Open311's format below.
  // Reads are public: a browser dashboard on any origin may use them (errors included).
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD')
      reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', 'retry-after');
  });

  app.setErrorHandler((error, request, reply) => {
    const format = formatAsked(request.url);
    const mapped = toCivicLoopError(error as Error);
    const retryAfter = retryAfterOf(mapped);
    if (retryAfter) reply.header('retry-after', retryAfter);
    const status =
      mapped.status === 404 || mapped.status === 429
        ? mapped.status
        : mapped.status === 401 || mapped.status === 403
          ? 403
          : mapped.status >= 500
            ? mapped.status
            : 400;
    if (status >= 500) request.log.error({ err: error }, 'open311 request failed');
    return answer(reply.code(status), format, 'errors', [{ code: status, description: mapped.message }]);
  });
  app.setNotFoundHandler((request, reply) =>
    answer(reply.code(404), formatAsked(request.url), 'errors', [
      { code: 404, description: `No Open311 resource ${request.method} ${request.url.slice(0, 200)}; start at /open311/v2/discovery.xml.` },
    ]),
  );
}
