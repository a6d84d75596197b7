import type { FastifyPluginAsync } from 'fastify';
import { CivicLoopError, CRS_NAMES, TERMINAL_STATUSES, isCrsName, isPublished, type Principal, type Ticket } from '@civicloop/model';
import type { Services } from '../../core/services.js';
import { authenticateFromAddress } from '../../http/authenticate-from-address.js';
import { limitedAfterFailure } from '../../http/error-handler.js';
import { listTickets } from '../../tickets/list-tickets.js';
import type { TicketService } from '../../tickets/ticket-service.js';
import { answer, servedFormat } from './answer.js';
import { requestOf } from './format.js';
import { PUBLIC_ROUTE as publicRoute, type Open311Lookups } from './lookups.js';

const DEFAULT_WINDOW_DAYS = 90;
const MAX_REQUESTS = 1000;

/** Posting a request (with an api_key), and reading requests: a list, one, a token. */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const open311RequestRoutes: FastifyPluginAsync<{ services: Services; ticketService: TicketService; lookups: Open311Lookups }> = async (
  app,
  { services, ticketService, lookups },
) => {
  const { paramsOf, baseUrl, jurisdiction, publishingJurisdiction, knownService, answersOf, unitNames, reader } = lookups;

  app.post<{ Params: { format: string } }>('/requests.:format', publicRoute, async (request, reply) => {
    const format = servedFormat(request.params.format);
    const params = paramsOf(request);
    const tenant = await jurisdiction(params);
    const apiKey = params.one('api_key');
    if (!apiKey) throw new CivicLoopError('CL_ERR_UNAUTHENTICATED', 'api_key is required to post a request.');
    let principal: Principal;
    try {
      // From an address past its failed-authentication limit, only a key this gateway verified lately.
      principal = await authenticateFromAddress(request.ip, { authorization: `Bearer ${apiKey}` }, services);
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
