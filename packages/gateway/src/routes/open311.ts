import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  CATEGORY_GROUPS,
  CivicLoopError,
  TERMINAL_STATUSES,
  categoryCatalogue,
  findCategory,
  type Principal,
  type Tenant,
  type Ticket,
} from '@civicloop/model';
import { authenticate } from '../auth/authenticate.js';
import type { Services } from '../services.js';
import { listTickets } from '../tickets/list-tickets.js';
import type { TicketService } from '../tickets/ticket-service.js';
import { retryAfterOf, toCivicLoopError } from '../http/error-handler.js';

/**
 * Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2), JSON format, at /open311/v2. The
 * jurisdiction is the tenant, named by its code (jurisdiction_id). Reading requests is public, as
 * the standard intends, and shows no reporter data; creating one needs an api_key (the tenant's
 * publishable or secret key). Responses follow the spec to the letter: bare arrays, string ids,
 * ISO 8601 times with a zone offset and no fractions, and errors as [{code, description}].
 */
class Open311Error extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 429,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_WINDOW_DAYS = 90;
const MAX_REQUESTS = 1000;

/** "2026-11-22T09:05:00+08:00": the spec's format, in the tenant's time zone. */
export function open311Time(iso: string | undefined, timeZone: string): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  const offsetMinutes = Math.round((local - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const STATUS_NOTES: Record<Ticket['status'], string> = {
  reported: 'Received; waiting to be assigned.',
  dispatched: 'Assigned to the responsible unit.',
  accepted: 'A worker has taken it on.',
  on_site: 'A worker is on site.',
  resolved: 'Fixed; waiting for the check.',
  rework: 'The check found more to do; the worker is back on it.',
  closed: 'Fixed and checked.',
  rejected: 'Not accepted.',
  duplicate: 'A duplicate of another request, which is followed instead.',
  cancelled: 'Withdrawn by the reporter.',
};

function serviceOf(code: string, language: 'en' | 'zh-CN' = 'en') {
  const category = findCategory(code);
  const group = CATEGORY_GROUPS.find((g) => g.code === category?.group);
  return {
    service_code: code,
    service_name: category?.name[language] ?? code,
    description: category ? `${category.name.en} (${category.name['zh-CN']})` : code,
    metadata: false,
    type: 'realtime',
    keywords: category ? [category.name.en.toLowerCase(), category.name['zh-CN']].join(',') : '',
    group: group?.name.en ?? '',
  };
}

function requestOf(ticket: Ticket, tenant: Tenant, unitName: string | undefined) {
  const closed = TERMINAL_STATUSES.includes(ticket.status);
  const photo = ticket.photos[0]?.ref;
  return {
    service_request_id: ticket.number,
    status: closed ? 'closed' : 'open',
    status_notes: ticket.status === 'rejected' && ticket.rejection ? `${STATUS_NOTES.rejected} (${ticket.rejection.reason})` : STATUS_NOTES[ticket.status],
    service_name: serviceOf(ticket.category).service_name,
    service_code: ticket.category,
    description: ticket.description,
    agency_responsible: unitName ?? null,
    service_notice: null,
    requested_datetime: open311Time(ticket.createdAt, tenant.policy.timeZone),
    updated_datetime: open311Time(ticket.updatedAt, tenant.policy.timeZone),
    expected_datetime: closed ? null : open311Time(ticket.sla?.resolveBy, tenant.policy.timeZone),
    address: ticket.location.address ?? null,
    address_id: null,
    zipcode: null,
    lat: ticket.location.lat,
    long: ticket.location.lon,
    media_url: photo && /^https?:\/\//.test(photo) ? photo : photo?.startsWith('media:') ? `/v1/media/${photo.slice('media:'.length)}` : null,
  };
}

export const open311Routes: FastifyPluginAsync<{ services: Services; ticketService: TicketService }> = async (app: FastifyInstance, { services, ticketService }) => {
  // Open311 clients post forms, not JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));

  // Open311 routes need no key: the gateway's shared per-address limit for keyless routes
  // (RATE_LIMIT_KEYLESS_PER_ADDRESS) holds them, and a 429 comes in Open311's format below.

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof Open311Error) return reply.code(error.status).send([{ code: error.status, description: error.message }]);
    const mapped = toCivicLoopError(error as Error);
    const retryAfter = retryAfterOf(mapped);
    if (retryAfter) reply.header('retry-after', retryAfter);
    const status = mapped.status === 404 || mapped.status === 429 ? mapped.status : mapped.status === 401 || mapped.status === 403 ? 403 : mapped.status >= 500 ? mapped.status : 400;
    if (status >= 500) request.log.error({ err: error }, 'open311 request failed');
    return reply.code(status).send([{ code: status, description: mapped.message }]);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send([{ code: 404, description: `No Open311 resource ${request.method} ${request.url}; start at /open311/v2/discovery.json.` }]));

  const publicRoute = { config: { access: { kind: 'none' as const } }, schema: { hide: true } };

  async function jurisdiction(query: Record<string, string | undefined>): Promise<Tenant> {
    const code = query.jurisdiction_id;
    if (!code) throw new Open311Error(400, 'jurisdiction_id is required: the code of the city or district (the tenant code).');
    const tenant = await services.tenants.findByCode(code.toUpperCase());
    if (!tenant) throw new Open311Error(404, `No jurisdiction ${code}.`);
    return tenant;
  }

  function json(format: string): void {
    if (format !== 'json') throw new Open311Error(400, `Format ${format} is not served; use .json.`);
  }

  app.get<{ Params: { format: string } }>('/discovery.:format', publicRoute, async (request) => {
    json(request.params.format);
    const base = `${services.config.publicUrl ?? `${request.protocol}://${request.host}`}/open311/v2`;
    return {
      changeset: '2026-11-22T00:00:00Z',
      contact: 'Your city service desk; see the CivicLoop tenant for details.',
      key_service: 'Ask the operator of this CivicLoop tenant for an api_key (its publishable key).',
      endpoints: [{ specification: 'http://wiki.open311.org/GeoReport_v2', url: base, changeset: '2026-11-22T00:00:00Z', type: 'production', formats: ['application/json'] }],
    };
  });

  app.get<{ Params: { format: string }; Querystring: Record<string, string> }>('/services.:format', publicRoute, async (request) => {
    json(request.params.format);
    await jurisdiction(request.query);
    return categoryCatalogue().categories.map((c) => serviceOf(c.code));
  });

  app.get<{ Params: { code: string; format: string }; Querystring: Record<string, string> }>('/services/:code.:format', publicRoute, async (request) => {
    json(request.params.format);
    await jurisdiction(request.query);
    if (!findCategory(request.params.code)) throw new Open311Error(404, `No service ${request.params.code}; list them with services.json.`);
    // Our categories take no extra questions: the definition has no attributes.
    return { service_code: request.params.code, attributes: [] };
  });

  app.post<{ Params: { format: string }; Querystring: Record<string, string>; Body: Record<string, string> }>('/requests.:format', publicRoute, async (request) => {
    json(request.params.format);
    const form = { ...request.query, ...(typeof request.body === 'object' && request.body ? request.body : {}) } as Record<string, string | undefined>;
    const tenant = await jurisdiction(form);
    if (!form.api_key) throw new Open311Error(403, 'api_key is required to post a request.');
    let principal: Principal;
    try {
      principal = await authenticate({ authorization: `Bearer ${form.api_key}` }, services.tenants, services.config.tokenMaxTtlSeconds);
    } catch {
      // A failed authentication like any other: it counts against the address.
      const wait = await services.addressLimits.noteAuthFailure(request.ip);
      if (wait !== undefined) throw new Open311Error(429, `Too many failed authentications from this address; wait ${wait} s.`);
      throw new Open311Error(403, 'api_key is not valid.');
    }
    if (principal.tenantId !== tenant.id) throw new Open311Error(403, 'api_key belongs to another jurisdiction.');
    if (!form.service_code) throw new Open311Error(400, 'service_code is required.');
    if (!findCategory(form.service_code)) throw new Open311Error(400, `Unknown service_code ${form.service_code}; list them with services.json.`);
    const lat = Number(form.lat);
    const lon = Number(form.long);
    if (form.lat === undefined || form.long === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new Open311Error(400, 'lat and long are required (WGS-84 degrees); address_string alone cannot be located here.');
    }
    const description = form.description ?? '';
    if (description.length > 4000) throw new Open311Error(400, 'description is longer than 4000 characters.');
    if (form.media_url && !/^https:\/\/.{1,500}$/.test(form.media_url)) throw new Open311Error(400, 'media_url must be an https URL.');
    const name = [form.first_name, form.last_name].filter(Boolean).join(' ');
    const contact = form.phone || form.email;
    const { ticket } = await ticketService.create(
      principal,
      {
        category: form.service_code,
        description: description || serviceOf(form.service_code).service_name,
        location: { lat, lon, ...(form.address_string ? { address: form.address_string.slice(0, 300) } : {}) },
        channel: 'app',
        ...(name ? { reporterName: name.slice(0, 100) } : {}),
        ...(contact ? { contact: contact.slice(0, 100) } : {}),
        ...(form.media_url ? { photos: [{ ref: form.media_url }] } : {}),
      },
      undefined,
    );
    return [{ service_request_id: ticket.number, service_notice: '', ...(form.account_id ? { account_id: form.account_id } : {}) }];
  });

  async function unitNames(tenantId: string): Promise<Map<string, string>> {
    return new Map((await services.directory.listUnits(tenantId)).map((u) => [u.id, u.name]));
  }

  app.get<{ Params: { format: string }; Querystring: Record<string, string | undefined> }>('/requests.:format', publicRoute, async (request) => {
    json(request.params.format);
    const tenant = await jurisdiction(request.query);
    const q = request.query;
    const principal: Principal = { tenantId: tenant.id, sub: 'open311', role: 'service', via: 'secret_key' };
    const units = await unitNames(tenant.id);
    if (q.service_request_id) {
      const found: Ticket[] = [];
      for (const number of q.service_request_id.split(',').map((s) => s.trim()).filter(Boolean).slice(0, MAX_REQUESTS)) {
        const ticket = await ticketService.byNumber(principal, number).catch(() => undefined);
        if (ticket) found.push(ticket);
      }
      return found.map((t) => requestOf(t, tenant, t.unitId ? units.get(t.unitId) : undefined));
    }
    const time = (name: string, value: string | undefined) => {
      if (value === undefined) return undefined;
      const parsed = Date.parse(value);
      if (Number.isNaN(parsed)) throw new Open311Error(400, `${name} must be an ISO 8601 date-time.`);
      return new Date(parsed);
    };
    const end = time('end_date', q.end_date) ?? services.now();
    const start = time('start_date', q.start_date) ?? new Date(end.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000);
    if (q.status && q.status !== 'open' && q.status !== 'closed' && q.status !== 'open,closed' && q.status !== 'closed,open') throw new Open311Error(400, 'status is open or closed.');
    const codes = q.service_code ? new Set(q.service_code.split(',').map((s) => s.trim())) : undefined;
    const wanted = (t: Ticket) => {
      if (codes && !codes.has(t.category)) return false;
      const closed = TERMINAL_STATUSES.includes(t.status);
      if (q.status === 'open' && closed) return false;
      if (q.status === 'closed' && !closed) return false;
      return true;
    };
    const out: Ticket[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20 && out.length < MAX_REQUESTS; page++) {
      const result = await listTickets(services.tickets, principal, { createdFrom: start.toISOString(), createdTo: end.toISOString(), limit: 200, ...(codes?.size === 1 ? { category: [...codes][0] } : {}), ...(cursor ? { cursor } : {}) }, services.now());
      out.push(...result.items.filter(wanted));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    return out.slice(0, MAX_REQUESTS).map((t) => requestOf(t, tenant, t.unitId ? units.get(t.unitId) : undefined));
  });

  app.get<{ Params: { id: string; format: string }; Querystring: Record<string, string> }>('/requests/:id.:format', publicRoute, async (request) => {
    json(request.params.format);
    const tenant = await jurisdiction(request.query);
    const principal: Principal = { tenantId: tenant.id, sub: 'open311', role: 'service', via: 'secret_key' };
    let ticket: Ticket;
    try {
      ticket = await ticketService.byNumber(principal, request.params.id);
    } catch (error) {
      if (error instanceof CivicLoopError && error.status === 404) throw new Open311Error(404, `No request ${request.params.id}.`);
      throw error;
    }
    return [requestOf(ticket, tenant, ticket.unitId ? (await unitNames(tenant.id)).get(ticket.unitId) : undefined)];
  });

  app.get<{ Params: { token: string; format: string }; Querystring: Record<string, string> }>('/tokens/:token.:format', publicRoute, async (request) => {
    json(request.params.format);
    await jurisdiction(request.query);
    // Requests are created at once and answered with their id, so no token is ever pending.
    throw new Open311Error(404, `No pending token ${request.params.token}: requests here get their service_request_id immediately.`);
  });
};
