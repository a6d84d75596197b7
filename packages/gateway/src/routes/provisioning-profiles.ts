import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CivicLoopError,
  CreateProvisioningProfileInput,
  IssuedProvisioningProfile,
  ProvisioningProfile,
  UpdateProvisioningProfileInput,
} from '@civicloop/model';
import { ADMINS, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const access = { kind: 'roles', roles: ADMINS } as const;
const TAGS = ['devices'];

/**
 * Provisioning profiles: admins make one per batch of firmware, and devices flashed with its
 * provision key and secret register themselves (POST /api/v1/provision, or MQTT as `provision`:
 * thingsboard-provision.ts), as ThingsBoard's device profiles provision them.
 */
export const provisioningProfileRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/v1/provisioning-profiles',
    {
      config: { access },
      schema: {
        tags: TAGS,
        summary: 'Make a provisioning profile: devices flashed with its key and secret register themselves; the secret is returned once',
        security,
        body: CreateProvisioningProfileInput,
        response: { 201: IssuedProvisioningProfile, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      if (request.body.unitId && !(await services.directory.getUnit(tenantId, request.body.unitId))) {
        throw new CivicLoopError('CL_ERR_UNKNOWN_UNIT', `Unit ${request.body.unitId} does not exist; create it first with POST /v1/units.`);
      }
      return reply.code(201).send(await services.provisioning.create(tenantId, request.body, services.now()));
    },
  );

  app.get(
    '/v1/provisioning-profiles',
    {
      config: { access },
      schema: {
        tags: TAGS,
        summary: 'List provisioning profiles',
        security,
        response: { 200: Type.Object({ items: Type.Array(ProvisioningProfile) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await services.provisioning.list(request.principal.tenantId) }),
  );

  changeRoutes(app, services);

  app.delete(
    '/v1/provisioning-profiles/:id',
    {
      config: { access },
      schema: {
        tags: TAGS,
        summary: 'Delete a provisioning profile: its key provisions nothing more; the devices it provisioned stay',
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await services.provisioning.remove(request.principal.tenantId, request.params.id)))
        throw new CivicLoopError('CL_ERR_NOT_FOUND', `No provisioning profile ${request.params.id} in this tenant.`);
      return reply.code(204).send(null);
    },
  );
};

/** The changes a leak or a new batch calls for: the limit (and name), and a new secret. */
function changeRoutes(app: Parameters<FastifyPluginAsyncTypebox>[0], services: Services): void {
  app.patch(
    '/v1/provisioning-profiles/:id',
    {
      config: { access },
      schema: {
        tags: TAGS,
        summary: 'Rename a provisioning profile or change the most devices it provisions (maxDevices; null for no limit)',
        security,
        params: IdParams,
        body: UpdateProvisioningProfileInput,
        response: { 200: ProvisioningProfile, ...errorResponses },
      },
    },
    async (request) => services.provisioning.update(request.principal.tenantId, request.params.id, request.body, services.now()),
  );

  app.post(
    '/v1/provisioning-profiles/:id/secret',
    {
      config: { access },
      schema: {
        tags: TAGS,
        summary:
          "Give a provisioning profile's key a new secret, returned once: the old one provisions nothing more (a secret that leaked); " +
          'devices it provisioned keep their tokens',
        security,
        params: IdParams,
        response: { 200: IssuedProvisioningProfile, ...errorResponses },
      },
    },
    async (request) => services.provisioning.rotateSecret(request.principal.tenantId, request.params.id, services.now()),
  );
}
