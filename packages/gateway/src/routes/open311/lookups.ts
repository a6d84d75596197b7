import type { FastifyRequest } from 'fastify';
import { CivicLoopError, type Answers, type Category, type Principal, type Tenant } from '@civicloop/model';
import type { Services } from '../../core/services.js';
import { Params } from './params.js';

/** Every Open311 route needs no key of ours: reads are public, and a POST checks its own api_key. */
export const PUBLIC_ROUTE = { config: { access: { kind: 'none' as const } }, schema: { hide: true } };

/** What the Open311 routes look up: the jurisdiction (tenant) a request names, its services, the answers to their attributes. */
export function open311Lookups(services: Services) {
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

  async function unitNames(tenantId: string): Promise<Map<string, string>> {
    return new Map((await services.directory.listUnits(tenantId)).map((u) => [u.id, u.name]));
  }

  /** Reads act as the gateway itself, then keep only what the tenant publishes. */
  const reader = (tenant: Tenant): Principal => ({ tenantId: tenant.id, sub: 'open311', role: 'service', via: 'secret_key' });

  return { paramsOf, baseUrl, jurisdiction, publishingJurisdiction, knownService, answersOf, unitNames, reader };
}

export type Open311Lookups = ReturnType<typeof open311Lookups>;
