import type { SwaggerOptions } from '@fastify/swagger';
import {
  Category,
  CategoryCatalogue,
  CreateTicketInput,
  Device,
  ErrorResponse,
  Location,
  Question,
  Staff,
  Ticket,
  TicketEvent,
  Unit,
  Webhook,
  Zone,
} from '@civicloop/model';
import { CommandResult } from './shared-schemas.js';

/**
 * The OpenAPI document as generators and linters want it (redocly's recommended rules): every
 * operation named, the shared shapes once under components and referred to by $ref (the same
 * Ticket was written out in every answer: 5 MB), the photo upload described as a file part,
 * tuples in JSON Schema 2020-12's words. Applied to what @fastify/swagger generates from the
 * routes' own schemas, so the routes keep one definition each; which routes need no credentials
 * and which answer text/event-stream the routes say themselves (`security`, `produces`).
 */

/** Every operation's name: a new route needs one here (the OpenAPI test fails without it). */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /v1/health': 'getHealth',
  'GET /v1/categories': 'listCategories',
  'PUT /v1/categories/{code}': 'defineCategory',
  'PATCH /v1/categories/{code}': 'changeCategory',
  'POST /v1/tickets': 'createTicket',
  'GET /v1/tickets': 'listTickets',
  'GET /v1/tickets/{id}': 'getTicket',
  'GET /v1/tickets/by-number/{number}': 'getTicketByNumber',
  'GET /v1/tickets/{id}/history': 'getTicketHistory',
  'GET /v1/tickets/{id}/likely-duplicates': 'getLikelyDuplicates',
  'GET /v1/tickets/nearby': 'listNearbyTickets',
  'POST /v1/tickets/{id}/follow': 'followTicket',
  'GET /v1/tickets/{id}/nearest-workers': 'listNearestWorkers',
  'POST /v1/tickets/{id}/dispatch-nearest': 'dispatchTicketToNearest',
  'GET /v1/events/position': 'getEventPosition',
  'GET /v1/events': 'streamEvents',
  'GET /v1/units': 'listUnits',
  'POST /v1/units': 'createUnit',
  'PATCH /v1/units/{id}': 'updateUnit',
  'GET /v1/staff': 'listStaff',
  'POST /v1/staff': 'createStaff',
  'PATCH /v1/staff/{id}': 'updateStaff',
  'GET /v1/zones': 'listZones',
  'POST /v1/zones': 'createZone',
  'GET /v1/zones/{id}': 'getZone',
  'PATCH /v1/zones/{id}': 'updateZone',
  'DELETE /v1/zones/{id}': 'deleteZone',
  'GET /v1/inspections/round': 'getInspectionRound',
  'POST /v1/webhooks': 'createWebhook',
  'GET /v1/webhooks': 'listWebhooks',
  'GET /v1/webhooks/{id}': 'getWebhook',
  'PATCH /v1/webhooks/{id}': 'updateWebhook',
  'DELETE /v1/webhooks/{id}': 'deleteWebhook',
  'GET /v1/webhooks/{id}/deliveries': 'listWebhookDeliveries',
  'POST /v1/partners': 'createPartner',
  'GET /v1/partners': 'listPartners',
  'GET /v1/partners/{id}': 'getPartner',
  'PATCH /v1/partners/{id}': 'updatePartner',
  'DELETE /v1/partners/{id}': 'disablePartner',
  'POST /v1/partners/{id}/keys/rotate': 'rotatePartnerKey',
  'POST /v1/intake/hotline': 'importHotlineCases',
  'GET /v1/stats': 'getStats',
  'GET /v1/blackspots': 'listBlackSpots',
  'GET /v1/blackspots/{code}': 'getBlackSpot',
  'POST /v1/blackspots/{code}/inspections': 'recordBlackSpotInspection',
  'GET /v1/rankings/monthly': 'getMonthlyRanking',
  'POST /v1/tenants': 'createTenant',
  'POST /v1/keys/rotate': 'rotateKey',
  'PATCH /v1/tenant/policy': 'updateTenantPolicy',
  'GET /v1/me': 'getMe',
  'POST /v1/devices': 'registerDevice',
  'GET /v1/devices': 'listDevices',
  'GET /v1/devices/{id}': 'getDevice',
  'PATCH /v1/devices/{id}': 'updateDevice',
  'POST /v1/devices/{id}/credentials': 'rotateDeviceCredentials',
  'POST /v1/devices/{id}/locate': 'locateDevice',
  'GET /v1/devices/{id}/photos': 'listDevicePhotos',
  'POST /v1/devices/{id}/photos': 'takeDevicePhoto',
  'POST /v1/devices/{id}/alarms/confirm': 'confirmDeviceAlarms',
  'GET /v1/fleet/alerts': 'listRecentAlerts',
  'GET /v1/devices/{id}/state': 'getDeviceState',
  'GET /v1/devices/{id}/track': 'getDeviceTrack',
  'POST /v1/provisioning-profiles': 'createProvisioningProfile',
  'GET /v1/provisioning-profiles': 'listProvisioningProfiles',
  'PATCH /v1/provisioning-profiles/{id}': 'updateProvisioningProfile',
  'POST /v1/provisioning-profiles/{id}/secret': 'rotateProvisioningProfileSecret',
  'DELETE /v1/provisioning-profiles/{id}': 'deleteProvisioningProfile',
  'GET /v1/telemetry/counters': 'getTelemetryCounters',
  'GET /v1/telemetry/unattributed': 'getUnattributedTelemetry',
  'POST /v1/broker/emqx/authenticate': 'emqxAuthenticate',
  'POST /v1/broker/emqx/authorize': 'emqxAuthorize',
  'GET /v1/fleet': 'getFleet',
  'GET /v1/attendance': 'getAttendance',
  'GET /v1/fleet/events': 'streamFleetPositions',
  'GET /v1/geocode/reverse': 'reverseGeocode',
  'POST /v1/residents/anonymous': 'createAnonymousResident',
  'POST /v1/residents/anonymous/token': 'getAnonymousResidentToken',
  'POST /v1/media': 'uploadPhoto',
  'GET /v1/media/{tenantId}/{name}': 'getPhoto',
  'GET /v1/entry-codes/report.{format}': 'getReportEntryCode',
};

/** Shapes many operations share, by the name they get under components.schemas (largest first). */
const SHARED: readonly [string, unknown][] = [
  ['Ticket', Ticket],
  ['CategoryCatalogue', CategoryCatalogue],
  ['Category', Category],
  ['CreateTicketInput', CreateTicketInput],
  ['CommandResult', CommandResult],
  ['TicketEvent', TicketEvent],
  ['Zone', Zone],
  ['Device', Device],
  ['Webhook', Webhook],
  ['Staff', Staff],
  ['Unit', Unit],
  ['Question', Question],
  ['Location', Location],
  ['ErrorResponse', ErrorResponse],
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Operation = { operationId?: string; requestBody?: { content?: Record<string, unknown> } };

/** JSON with object keys sorted: two schemas are the same shape when these are equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Draft-07 tuples (items as a list, additionalItems) in 2020-12's words: prefixItems, items: false. */
function tuplesToPrefixItems(node: Json): Json {
  if (Array.isArray(node)) return node.map(tuplesToPrefixItems);
  if (!node || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = tuplesToPrefixItems(value);
  if (Array.isArray(out.items)) {
    out.prefixItems = out.items;
    out.items = false;
    delete out.additionalItems;
  }
  return out;
}

/** As @fastify/swagger writes a schema into the document: `const: x` becomes `enum: [x]`. */
function asSwaggerWrites(node: Json): Json {
  if (Array.isArray(node)) return node.map(asSwaggerWrites);
  if (!node || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'const') out.enum = [value];
    // A Record of anything: patternProperties "^(.*)$" is written as additionalProperties.
    else if (key === 'patternProperties' && value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && '^(.*)$' in value)
      out.additionalProperties = asSwaggerWrites(value['^(.*)$']!);
    else out[key] = asSwaggerWrites(value);
  }
  return out;
}

/** Replaces every copy of a shared shape with a $ref to its one definition. */
function referToShared(node: Json, byShape: Map<string, string>, inside: string | undefined): Json {
  if (Array.isArray(node)) return node.map((n) => referToShared(n, byShape, inside));
  if (!node || typeof node !== 'object') return node;
  const name = byShape.get(canonical(node));
  if (name && name !== inside) return { $ref: `#/components/schemas/${name}` };
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) out[key] = referToShared(value, byShape, inside);
  return out;
}

export function finishOpenApiDocument<T extends { paths?: unknown; components?: unknown }>(document: T, options: { serverUrl: string }): T {
  const shared = SHARED.map(([name, schema]) => [name, tuplesToPrefixItems(asSwaggerWrites(JSON.parse(JSON.stringify(schema)) as Json))] as const);
  const byShape = new Map(shared.map(([name, schema]) => [canonical(schema), name]));
  const paths = tuplesToPrefixItems(JSON.parse(JSON.stringify(document.paths ?? {})) as Json) as Record<string, Record<string, Operation>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const key = `${method.toUpperCase()} ${path}`;
      const operationId = OPERATION_IDS[key];
      if (operationId) operation.operationId = operationId;
    }
  }
  const media = paths['/v1/media']?.post;
  if (media) {
    media.requestBody = {
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: {
                type: 'string',
                format: 'binary',
                contentMediaType: 'application/octet-stream',
                description: 'the photo: JPEG, PNG, WebP or HEIC, at most MEDIA_MAX_BYTES',
              },
            },
          },
        },
      },
    };
  }
  const components = (document.components ?? {}) as { schemas?: Record<string, Json> };
  const schemas: Record<string, Json> = { ...(components.schemas ?? {}) };
  // A shared shape's own definition refers to the smaller shared shapes inside it.
  for (const [name, schema] of shared) schemas[name] = referToShared(schema, byShape, name);
  const referred = referToShared(paths as unknown as Json, byShape, undefined);
  // Schemas fastify knows (addSchema) that no operation refers to are left out.
  const text = JSON.stringify([referred, schemas]);
  for (const name of Object.keys(schemas)) if (!SHARED.some(([n]) => n === name) && !text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
  return {
    ...document,
    servers: [{ url: options.serverUrl, description: 'this gateway' }],
    security: [{ bearer: [] }, { publishableKey: [] }],
    paths: referred,
    components: { ...components, schemas },
  };
}

/** The swagger plugin's options: shared schemas by name, each POST's idempotency, the document finished as finishOpenApiDocument says. */
export function openApiPluginOptions(publicUrl: string | undefined, idempotency: ReadonlyMap<string, string>): SwaggerOptions {
  return {
    // Schemas added with addSchema keep their $id as their name under components.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // Each POST says how it honours a repeated Idempotency-Key (http/idempotent-replay.ts).
    transformObject: (documentObject) => {
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      for (const [path, operations] of Object.entries(document.paths ?? {})) {
        const post = (operations as Record<string, Record<string, unknown>>).post;
        if (post) post['x-civicloop-idempotency'] = idempotency.get(`POST ${path}`) ?? 'replay';
      }
      return finishOpenApiDocument(document, { serverUrl: publicUrl ?? '/' });
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CivicLoop API',
        version: '1.0.0',
        description: 'Closed-loop city-service tickets: report, dispatch, fix, verify, follow up. Errors carry stable CL_ERR_* codes.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Secret key (servers) or a token signed with the tenant secret' },
          publishableKey: { type: 'apiKey', in: 'header', name: 'X-CivicLoop-Key', description: 'Publishable key (browsers)' },
        },
      },
      tags: [
        { name: 'tickets', description: 'Reports: create, read, list, find by number, nearby, follow' },
        { name: 'commands', description: 'State transitions; each appends one event to the history' },
        { name: 'realtime', description: 'Server-sent events of ticket events and device alerts, resumable' },
        { name: 'catalogue', description: "The tenant's categories: built in, its own, their extra questions" },
        { name: 'directory', description: 'Units and staff' },
        { name: 'intake', description: 'Cases from other channels: hotline imports' },
        { name: 'webhooks', description: 'Signed HTTP callbacks for ticket events, retried until delivered' },
        { name: 'partners', description: "Property platforms inside a tenant: their own keys, their own residents' tickets, events, webhooks and estates" },
        { name: 'zones', description: 'Areas and the units responsible in them: automatic routing of new tickets' },
        { name: 'tenants', description: 'Tenants, their keys and policy, and who is calling' },
        { name: 'devices', description: 'Vehicles and badges that publish telemetry over MQTT' },
        { name: 'fleet', description: 'Live positions, tracks, attendance' },
        { name: 'broker hooks', description: 'Authentication and authorization for devices on an external MQTT broker (EMQX)' },
        { name: 'media', description: 'Photo evidence' },
        { name: 'entry codes', description: 'Printable QR codes that open the report with a place preset' },
        { name: 'geocode', description: 'Addresses for points, from the configured geocoder' },
        { name: 'residents', description: 'Identities for residents without a login' },
        { name: 'operations', description: 'Health, statistics, black spots, rankings' },
      ],
    },
  };
}
