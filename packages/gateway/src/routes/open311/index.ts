import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  CivicLoopError,
  TERMINAL_STATUSES,
  isPublished,
  type Answers,
  type Category,
  type Principal,
  type Tenant,
  type Ticket,
  CRS_NAMES,
  isCrsName,
} from '@civicloop/model';
import { authenticate } from '../../http/authenticate.js';
import { limitedAfterFailure, retryAfterOf, toCivicLoopError } from '../../http/error-handler.js';
import type { Services } from '../../core/services.js';
import { listTickets } from '../../tickets/list-tickets.js';
import type { TicketService } from '../../tickets/ticket-service.js';
import { OPEN311_MEDIA_TYPES, answer, formatAsked, servedFormat } from './answer.js';
import { definitionOf, requestOf, serviceOf } from './format.js';
import { Params } from './params.js';
import { acceptFormBodies } from '../../http/form-body.js';

export { open311Time } from './format.js';
export { sendOpen311FrameworkError } from './answer.js';

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
const DEFAULT_WINDOW_DAYS = 90;
const MAX_REQUESTS = 1000;

export const open311Routes: FastifyPluginAsync<{ services: Services; ticketService: TicketService }> = async (
  app: FastifyInstance,
  { services, ticketService },
) => {
  // Open311 clients post forms, not JSON.
  acceptFormBodies(app, 64 * 1024);

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

  const publicRoute = { config: { access: { kind: 'none' as const } }, schema: { hide: true } };
  // A form (the spec's way), or a JSON object from a lenient client: read alike.
  const paramsOf = (request: FastifyRequest) =>
    new Params(
      request.query,
      request.body instanceof URLSearchParams || (typeof request.body === 'object' && request.body !== null && !Array.isArray(request.body))
        ? request.body
        : undefined,
    );
  const baseUrl = (request: FastifyRequest) => services.config.publicUrl ?? `${request.protocol}://${request.host}`;

  async function jurisdiction(params: Params): Promise<Tenant> {
    const code = params.one('jurisdiction_id');
    if (!code) throw new CivicLoopError('CL_ERR_VALIDATION', 'jurisdiction_id is required: the code of the city or district (the tenant code).');
    const tenant = await services.tenants.findByCode(code.toUpperCase());
    if (!tenant) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No jurisdiction ${code.slice(0, 40)}.`);
    return tenant;
  }

  /** Reads show only what the tenant chose to publish. */
  async function publishingJurisdiction(params: Params): Promise<Tenant> {
    const tenant = await jurisdiction(params);
    if (!tenant.policy.publicReads)
      throw new CivicLoopError('CL_ERR_FORBIDDEN', `Jurisdiction ${tenant.code} does not publish its requests; ask it for access through its own channels.`);
    return tenant;
  }

  /** A service the jurisdiction takes reports of now (a disabled category is not one). */
  async function knownService(tenant: Tenant, code: string): Promise<Category> {
    const category = (await services.categories.catalogue(tenant.id)).find(code);
    if (!category || category.disabled) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No service ${code.slice(0, 64)}; list them with services.json.`);
    return category;
  }

  /**
   * The answers to the service's attributes: attribute[code]=value, a list repeated or as
   * attribute[code][]. Attributes the service does not ask are ignored, as clients add their own.
   */
  function answersOf(params: Params, category: Category): Answers | undefined {
    const given = params.attributes();
    const answers: Answers = {};
    for (const question of category.questions ?? []) {
      const values = given.get(question.code);
      if (!values) continue;
      if (question.datatype === 'multivaluelist')
        answers[question.code] = values
          .flatMap((v) => v.split(','))
          .map((v) => v.trim())
          .filter(Boolean);
      else if (new Set(values).size > 1)
        throw new CivicLoopError('CL_ERR_VALIDATION', `attribute[${question.code}] was given more than once with different values; it takes one.`);
      else answers[question.code] = values[0]!;
    }
    return Object.keys(answers).length > 0 ? answers : undefined;
  }

  app.get<{ Params: { format: string } }>('/discovery.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const base = `${baseUrl(request)}/open311/v2`;
    return answer(reply, format, 'discovery', {
      changeset: '2026-11-22T00:00:00Z',
      contact: 'Your city service desk; see the CivicLoop tenant for details.',
      key_service: 'Ask the operator of this CivicLoop tenant for an api_key (its publishable key).',
      endpoints: [
        {
          specification: 'http://wiki.open311.org/GeoReport_v2',
          url: base,
          changeset: '2026-11-22T00:00:00Z',
          type: 'production',
          formats: [...OPEN311_MEDIA_TYPES],
        },
      ],
    });
  });

  app.get<{ Params: { format: string } }>('/services.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const tenant = await jurisdiction(paramsOf(request));
    const catalogue = (await services.categories.catalogue(tenant.id)).catalogue();
    return answer(
      reply,
      format,
      'services',
      catalogue.categories.map((c) => serviceOf(c)),
    );
  });

  app.get<{ Params: { code: string; format: string } }>('/services/:code.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const tenant = await jurisdiction(paramsOf(request));
    // The category's extra questions, as attributes (none: an empty list).
    return answer(reply, format, 'service_definition', definitionOf(await knownService(tenant, request.params.code)));
  });

  app.post<{ Params: { format: string } }>('/requests.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const params = paramsOf(request);
    const tenant = await jurisdiction(params);
    const apiKey = params.one('api_key');
    if (!apiKey) throw new CivicLoopError('CL_ERR_UNAUTHENTICATED', 'api_key is required to post a request.');
    let principal: Principal;
    try {
      principal = await authenticate({ authorization: `Bearer ${apiKey}` }, services.tenants, services.config.tokenMaxTtlSeconds);
    } catch (error) {
      // Only a refused key is the client's fault (Redis down is a 503, said as such).
      if (!(error instanceof CivicLoopError && error.status === 401)) throw error;
      // A failed authentication like any other: it counts against the address, and past the
      // limit the answer is the same CL_ERR_RATE_LIMITED (429, Retry-After) as everywhere else.
      const limited = await limitedAfterFailure(services, request, error);
      if (limited.code === 'CL_ERR_RATE_LIMITED') throw limited;
      throw new CivicLoopError('CL_ERR_INVALID_KEY', 'api_key is not valid.');
    }
    if (principal.tenantId !== tenant.id) throw new CivicLoopError('CL_ERR_FORBIDDEN', 'api_key belongs to another jurisdiction.');
    const serviceCode = params.one('service_code');
    if (!serviceCode) throw new CivicLoopError('CL_ERR_VALIDATION', 'service_code is required.');
    const category = await knownService(tenant, serviceCode);
    // An empty lat or long is absent: a request is never stored at 0,0.
    const lat = params.number('lat', -90, 90);
    const lon = params.number('long', -180, 180);
    if (lat === undefined || lon === undefined)
      throw new CivicLoopError('CL_ERR_VALIDATION', 'lat and long are required (WGS-84 degrees); address_string alone cannot be located here.');
    // GeoReport v2 says WGS-84; a client on a Chinese map may say otherwise with crs (our extension).
    const crs = params.one('crs') ?? 'wgs84';
    if (!isCrsName(crs)) throw new CivicLoopError('CL_ERR_VALIDATION', `crs must be one of ${CRS_NAMES.join(', ')}.`);
    const description = params.one('description') ?? '';
    if (description.length > 4000) throw new CivicLoopError('CL_ERR_VALIDATION', 'description is longer than 4000 characters.');
    const mediaUrl = params.one('media_url');
    if (mediaUrl && !/^https:\/\/[^\s]{1,500}$/.test(mediaUrl)) throw new CivicLoopError('CL_ERR_VALIDATION', 'media_url must be an absolute https URL.');
    const name = [params.one('first_name'), params.one('last_name')].filter(Boolean).join(' ');
    const contact = params.one('phone') ?? params.one('email');
    const address = params.one('address_string');
    const accountId = params.one('account_id');
    const answers = answersOf(params, category);
    const { ticket } = await ticketService.create(
      principal,
      {
        category: serviceCode,
        description: description || category.name.en,
        location: { lat, lon, crs, ...(address ? { address: address.slice(0, 300) } : {}) },
        channel: 'app',
        ...(name ? { reporterName: name.slice(0, 100) } : {}),
        ...(contact ? { contact: contact.slice(0, 100) } : {}),
        ...(mediaUrl ? { photos: [{ ref: mediaUrl }] } : {}),
        ...(answers ? { answers } : {}),
      },
      undefined,
    );
    return answer(reply, format, 'service_requests', [
      { service_request_id: ticket.number, service_notice: '', ...(accountId ? { account_id: accountId } : {}) },
    ]);
  });

  async function unitNames(tenantId: string): Promise<Map<string, string>> {
    return new Map((await services.directory.listUnits(tenantId)).map((u) => [u.id, u.name]));
  }

  /** Reads act as the gateway itself, then keep only what the tenant publishes. */
  const reader = (tenant: Tenant): Principal => ({ tenantId: tenant.id, sub: 'open311', role: 'service', via: 'secret_key' });

  app.get<{ Params: { format: string } }>('/requests.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const params = paramsOf(request);
    const tenant = await publishingJurisdiction(params);
    const catalogue = await services.categories.catalogue(tenant.id);
    const published = (t: Ticket | undefined): t is Ticket => t !== undefined && isPublished(t, tenant.policy, catalogue.find);
    const units = await unitNames(tenant.id);
    const shown = (tickets: Ticket[]) => tickets.map((t) => requestOf(t, tenant, t.unitId ? units.get(t.unitId) : undefined, baseUrl(request)));
    const numbers = params.many('service_request_id');
    if (numbers) {
      const found: Ticket[] = [];
      for (const number of numbers.slice(0, MAX_REQUESTS)) {
        const ticket = await ticketService.byNumber(reader(tenant), number).catch(() => undefined);
        if (published(ticket)) found.push(ticket);
      }
      return answer(reply, format, 'service_requests', shown(found));
    }
    const end = params.time('end_date') ?? services.now();
    const start = params.time('start_date') ?? new Date(end.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000);
    if (start > end) throw new CivicLoopError('CL_ERR_VALIDATION', 'start_date is after end_date.');
    const statuses = params.many('status')?.map((s) => s.toLowerCase());
    if (statuses?.some((s) => s !== 'open' && s !== 'closed')) throw new CivicLoopError('CL_ERR_VALIDATION', 'status is open, closed, or both (open,closed).');
    const codes = params.many('service_code');
    for (const code of codes ?? [])
      if (!catalogue.find(code)) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No service ${code.slice(0, 64)}; list them with services.json.`);
    const wanted = (t: Ticket) => {
      if (!published(t)) return false;
      if (codes && !codes.includes(t.category)) return false;
      return !statuses || statuses.includes(TERMINAL_STATUSES.includes(t.status) ? 'closed' : 'open');
    };
    const out: Ticket[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20 && out.length < MAX_REQUESTS; page++) {
      const result = await listTickets(
        services.tickets,
        reader(tenant),
        {
          createdFrom: start.toISOString(),
          createdTo: end.toISOString(),
          limit: 200,
          ...(codes?.length === 1 ? { category: codes[0]! } : {}),
          ...(cursor ? { cursor } : {}),
        },
        services.now(),
      );
      out.push(...result.items.filter(wanted));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    return answer(reply, format, 'service_requests', shown(out.slice(0, MAX_REQUESTS)));
  });

  app.get<{ Params: { id: string; format: string } }>('/requests/:id.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const tenant = await publishingJurisdiction(paramsOf(request));
    let ticket: Ticket | undefined;
    try {
      ticket = await ticketService.byNumber(reader(tenant), request.params.id);
    } catch (error) {
      if (!(error instanceof CivicLoopError && error.status === 404)) throw error;
    }
    // A private ticket is not there for a reader without credentials.
    if (!ticket || !isPublished(ticket, tenant.policy, (await services.categories.catalogue(tenant.id)).find))
      throw new CivicLoopError('CL_ERR_NOT_FOUND', `No request ${request.params.id.slice(0, 40)}.`);
    return answer(reply, format, 'service_requests', [
      requestOf(ticket, tenant, ticket.unitId ? (await unitNames(tenant.id)).get(ticket.unitId) : undefined, baseUrl(request)),
    ]);
  });

  app.get<{ Params: { token: string; format: string } }>('/tokens/:token.:format', publicRoute, async (request) => {
    servedFormat(request.params.format);
    await jurisdiction(paramsOf(request));
    // Requests are created at once and answered with their id, so no token is ever pending.
    throw new CivicLoopError(
      'CL_ERR_NOT_FOUND',
      `No pending token ${request.params.token.slice(0, 40)}: requests here get their service_request_id immediately.`,
    );
  });
};
