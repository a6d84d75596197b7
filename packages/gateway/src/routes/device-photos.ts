import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, DevicePhoto, TakePhotoInput } from '@civicloop/model';
import { MANAGERS_AND_SERVERS, STAFF } from '../core/services.js';
import { thumbKeyOf } from '../media/keep-photo.js';
import { MediaUrls } from '../media/media-urls.js';
import { DevicePhotoStore, PHOTOS_KEPT } from '../store/device-photo-store.js';
import type { ServicesWithTelemetry } from '../telemetry/start.js';
import { errorResponses, security } from './shared-schemas.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['devices'];

/**
 * What a vehicle's camera saw: the photos its JT/T 808 terminal uploaded (by itself, on an alarm,
 * or asked for here), and asking it for one now. The photos are stored as uploaded ones are and
 * shown through signed links (telemetry/jt808/photos.ts).
 */
export const devicePhotoRoutes: FastifyPluginAsyncTypebox<{ services: ServicesWithTelemetry }> = async (app, { services }) => {
  const store = new DevicePhotoStore(services.redis);

  app.get(
    '/v1/devices/:id/photos',
    {
      config: { access: { kind: 'roles', roles: STAFF } },
      schema: {
        tags,
        summary: `The photos a vehicle's camera uploaded, newest first (its last ${PHOTOS_KEPT}), with signed links`,
        security,
        params: IdParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PHOTOS_KEPT })) }),
        response: { 200: Type.Object({ items: Type.Array(DevicePhoto) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      const now = services.now();
      const items = (await store.list(tenantId, device.id, request.query.limit)).map((photo) => {
        const key = MediaUrls.keyOf(photo.ref)!;
        return {
          ...photo,
          url: services.mediaUrls.sign(key, now),
          thumbnailUrl: services.mediaUrls.sign(thumbKeyOf(key), now),
        };
      });
      return { items };
    },
  );

  app.post(
    '/v1/devices/:id/photos',
    {
      config: { access: { kind: 'roles', roles: MANAGERS_AND_SERVERS } },
      schema: {
        tags,
        summary: "Ask a vehicle's JT/T 808 terminal to take a photo now (camera command 0x8801); it is listed with the device's photos once uploaded",
        security,
        params: IdParams,
        body: TakePhotoInput,
        response: {
          202: Type.Object({ commandId: Type.String({ description: 'the command, until the terminal confirms it in its state' }) }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const device = await services.devices.mustGet(tenantId, request.params.id);
      if (device.protocol !== 'jt808')
        throw new CivicLoopError('CL_ERR_VALIDATION', `Device ${device.id} is not a JT/T 808 terminal: only those are asked for photos.`, {
          issues: [{ path: '/id', message: 'not a jt808 device' }],
        });
      if (device.disabled) throw new CivicLoopError('CL_ERR_DEVICE_UNREACHABLE', `Device ${device.id} is disabled.`);
      if (!services.telemetry) throw new CivicLoopError('CL_ERR_DEVICE_UNREACHABLE', 'Telemetry is not running on this gateway.');
      const commandId = await services.telemetry.sendCommand(tenantId, device, { type: 'take_photo', channel: request.body.channel ?? 1 });
      return reply.code(202).send({ commandId });
    },
  );
};
