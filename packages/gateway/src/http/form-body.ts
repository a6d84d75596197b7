import type { FastifyInstance } from 'fastify';

/**
 * Form bodies (application/x-www-form-urlencoded) for the routes of one plugin, read as
 * URLSearchParams so that a field may repeat (Open311's service_code) and nothing is coerced.
 * Registered per plugin: the JSON API itself takes no forms.
 */
export function acceptFormBodies(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_request, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
}
