import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError, isPublished, isStaff } from '@civicloop/model';
import type { FastifyRequest } from 'fastify';
import { authenticate } from '../http/authenticate.js';
import { assertKey, KEY_PATTERN, photoHashOf, type MediaStore } from '../media/media-store.js';
import { keepPhoto } from '../media/keep-photo.js';
import { PEOPLE, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

const UploadedPhoto = Type.Object({
  ref: Type.String({ description: "Put this in a ticket's photos[].ref" }),
  url: Type.String({ description: 'a link signed for the uploader, valid one to two hours' }),
  thumbnailUrl: Type.String({ description: 'the same for the thumbnail' }),
  contentType: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  bytes: Type.Integer(),
});

/**
 * Photo evidence: POST /v1/media takes one image (multipart, field `file`), GET serves it. The
 * stored name is the SHA-256 of the processed bytes, so the same photo uploaded twice is stored
 * once, and a URL cannot be guessed from anything but the photo itself.
 */
// Long: a route plugin is its routes, declared one after another (schema, access, handler); each handler is short.
export const mediaRoutes: FastifyPluginAsyncTypebox<{ services: Services; store: MediaStore }> = async (app, { services, store }) => {
  await app.register(multipart, { limits: { fileSize: services.config.mediaMaxBytes, files: 1, fields: 4, parts: 5 }, throwFileSizeLimit: true });

  app.post(
    '/v1/media',
    {
      // The stored name is the photo's hash: the same upload gives the same answer and writes nothing new.
      config: { access: { kind: 'roles', roles: ['public', ...PEOPLE] }, idempotency: 'content' },
      schema: {
        tags: ['media'],
        summary: 'Upload a photo (JPEG, PNG, WebP or HEIC by content, at most MEDIA_MAX_BYTES); EXIF is stripped, a thumbnail made',
        security,
        consumes: ['multipart/form-data'],
        response: { 201: UploadedPhoto, ...errorResponses },
      },
    },
    async (request, reply) => {
      let file;
      try {
        file = await request.file();
      } catch (error) {
        throw mapMultipartError(error);
      }
      if (file?.fieldname !== 'file') throw new CivicLoopError('CL_ERR_MEDIA_MISSING');
      let input: Buffer;
      try {
        input = await file.toBuffer();
      } catch (error) {
        throw mapMultipartError(error);
      }
      const { photo, key, thumbKey } = await keepPhoto(store, request.principal.tenantId, input);
      return reply.code(201).send({
        ref: `media:${key}`,
        // Signed links: the photo is not public, at least until it belongs to a published ticket.
        url: services.mediaUrls.sign(key, services.now()),
        thumbnailUrl: services.mediaUrls.sign(thumbKey, services.now()),
        contentType: photo.contentType,
        width: photo.width,
        height: photo.height,
        bytes: photo.bytes.length,
      });
    },
  );

  app.get(
    '/v1/media/:tenantId/:name',
    {
      config: { access: { kind: 'none' } },
      schema: {
        tags: ['media'],
        summary:
          'A stored photo or thumbnail: without credentials only when it belongs to a published ticket; otherwise ' +
          "with the signed link tickets carry (photos[].url), or the tenant's secret key or a staff token",
        params: Type.Object({ tenantId: Type.String({ maxLength: 20 }), name: Type.String({ maxLength: 90 }) }),
        // No credentials (a published ticket's photo, or a signed link), or the secret key or a staff token.
        security: [{}, { bearer: [] }],
        querystring: Type.Object({ exp: Type.Optional(Type.String({ maxLength: 12 })), sig: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: { description: 'the image', type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = `${request.params.tenantId}/${request.params.name}`;
      const notFound = () =>
        new CivicLoopError('CL_ERR_NOT_FOUND', 'No such photo, or not without credentials: use the signed link in the ticket (photos[].url).');
      if (!KEY_PATTERN.test(key)) throw notFound();
      assertKey(key);
      const access = await mayRead(request, request.params.tenantId, key, request.query);
      if (!access) throw notFound();
      const found = await store.get(key);
      if (!found) throw notFound();
      const ext = key.slice(key.lastIndexOf('.') + 1);
      reply.header('content-type', ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : 'image/jpeg');
      reply.header('content-length', String(found.size));
      // Published photos may be cached by anyone, briefly (a ticket can be made private later);
      // others only by the reader's own browser, for as long as the link is valid.
      reply.header('cache-control', access === 'public' ? 'public, max-age=300' : 'private, max-age=3600');
      reply.header('x-content-type-options', 'nosniff');
      return reply.send(found.stream);
    },
  );

  /**
   * Who may fetch a stored photo: anyone when it belongs to a ticket the tenant publishes; a
   * holder of a valid signed link; the tenant's servers and staff. A citizen gets signed links
   * in the tickets they may see. Everyone else is told there is no such photo.
   */
  async function mayRead(
    request: FastifyRequest,
    tenantId: string,
    key: string,
    link: { exp?: string | undefined; sig?: string | undefined },
  ): Promise<'public' | 'private' | undefined> {
    if (services.mediaUrls.verify(key, link.exp, link.sig, services.now())) return 'private';
    if (request.headers.authorization || request.headers['x-civicloop-key']) {
      const principal = await authenticate(
        { authorization: request.headers.authorization, publishableKey: request.headers['x-civicloop-key'] as string | undefined },
        services.tenants,
        services.config.tokenMaxTtlSeconds,
      );
      if (principal.tenantId === tenantId && isStaff(principal.role)) return 'private';
    }
    const context = await services.tenants.context(tenantId);
    if (!context?.tenant.policy.publicReads) return undefined;
    const ids = await services.tickets.ticketsOfPhoto(tenantId, photoHashOf(key));
    const [tickets, catalogue] = await Promise.all([services.tickets.getMany(tenantId, ids.slice(0, 50)), services.categories.catalogue(tenantId)]);
    return tickets.some((ticket) => ticket && isPublished(ticket, context.tenant.policy, catalogue.find)) ? 'public' : undefined;
  }
};

function mapMultipartError(error: unknown): CivicLoopError {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT')
    return new CivicLoopError('CL_ERR_PAYLOAD_TOO_LARGE', 'The photo is larger than MEDIA_MAX_BYTES allows (10 MB by default); send a smaller photo.');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new CivicLoopError('CL_ERR_MEDIA_MISSING');
  return new CivicLoopError('CL_ERR_MEDIA_MISSING', `The upload could not be read as multipart/form-data: ${(error as Error).message}`);
}
