import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CreateStaffInput, CreateUnitInput, Staff, Unit, UpdateStaffInput, UpdateUnitInput } from '@civicloop/model';
import { ADMINS, STAFF, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const read = { kind: 'roles', roles: STAFF } as const;
const write = { kind: 'roles', roles: ADMINS } as const;

/** Units (responsible departments) and staff: read by staff, changed by admins and servers. */
export const directoryRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { directory } = services;
  const tags = ['directory'];

  app.get(
    '/v1/units',
    {
      config: { access: read },
      schema: { tags, summary: 'List units', security, response: { 200: Type.Object({ items: Type.Array(Unit) }), ...errorResponses } },
    },
    async (request) => ({
      items: await directory.listUnits(request.principal.tenantId),
    }),
  );
  app.post(
    '/v1/units',
    { config: { access: write }, schema: { tags, summary: 'Create a unit', security, body: CreateUnitInput, response: { 201: Unit, ...errorResponses } } },
    async (request, reply) => reply.code(201).send(await directory.createUnit(request.principal.tenantId, request.body, services.now())),
  );
  app.patch(
    '/v1/units/:id',
    {
      config: { access: write },
      schema: { tags, summary: 'Update or deactivate a unit', security, params: IdParams, body: UpdateUnitInput, response: { 200: Unit, ...errorResponses } },
    },
    async (request) => directory.updateUnit(request.principal.tenantId, request.params.id, request.body, services.now()),
  );

  app.get(
    '/v1/staff',
    {
      config: { access: read },
      schema: {
        tags,
        summary: "List staff (a driver's qualification certificate number only to admins and servers)",
        security,
        response: { 200: Type.Object({ items: Type.Array(Staff) }), ...errorResponses },
      },
    },
    async (request) => {
      const items = await directory.listStaff(request.principal.tenantId);
      // The number is often the driver's ID card number: those who manage staff see it, colleagues do not.
      if (ADMINS.includes(request.principal.role)) return { items };
      return { items: items.map(({ qualificationCode: _hidden, ...person }) => person) };
    },
  );
  app.post(
    '/v1/staff',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Add a staff member (their id is the sub of their tokens)',
        security,
        body: CreateStaffInput,
        response: { 201: Staff, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await directory.createStaff(request.principal.tenantId, request.body, services.now())),
  );
  app.patch(
    '/v1/staff/:id',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'Update or deactivate a staff member',
        security,
        params: IdParams,
        body: UpdateStaffInput,
        response: { 200: Staff, ...errorResponses },
      },
    },
    async (request) => directory.updateStaff(request.principal.tenantId, request.params.id, request.body, services.now()),
  );
};
