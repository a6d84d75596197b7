import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../core/services.js';
import { acceptFormBodies } from '../../http/form-body.js';
import type { TicketService } from '../../tickets/ticket-service.js';
import { open311Lookups } from './lookups.js';
import { installOpen311Plumbing } from './plumbing.js';
import { open311RequestRoutes } from './request-routes.js';
import { open311ServiceRoutes } from './service-routes.js';

export { open311Time } from './format.js';
export { open311ClientErrorDocument, sendOpen311FrameworkError } from './answer.js';

/**
 * Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2), XML and JSON, at /open311/v2. The
 * jurisdiction is the tenant, named by its code (jurisdiction_id). Creating a request needs an
 * api_key (the tenant's publishable or secret key). Reading requests needs none, so it shows
 * only what the tenant publishes (policy.publicReads, and only tickets of public categories),
 * never reporter data. Responses follow the spec to the letter: bare arrays, string ids, ISO 8601
 * times with a zone offset and no fractions, and errors as [{code, description}] (in XML
 * <errors><error>) in the format the URL asks for: 404 for a missing resource (an unknown
 * service_code too), 403 for a bad api_key, 400 otherwise. The reads answer any origin (CORS),
 * as they show only what the tenant publishes.
 */
export const open311Routes: FastifyPluginAsync<{ services: Services; ticketService: TicketService }> = async (app, { services, ticketService }) => {
  // Open311 clients post forms, not JSON.
  acceptFormBodies(app, 64 * 1024);
  installOpen311Plumbing(app);
  const lookups = open311Lookups(services);
  await app.register(open311ServiceRoutes, { services, lookups });
  await app.register(open311RequestRoutes, { services, ticketService, lookups });
};
