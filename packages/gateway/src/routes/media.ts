import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CivicLoopError } from '@civicloop/model';
import { assertKey, KEY_PATTERN, type MediaStore } from '../media/media-store.js';
import { processPhoto } from '../media/process-photo.js';
import { PEOPLE, type Services } from '../services.js';
import { errorResponses, security } from './shared-schemas.js';

const UploadedPhoto = Type.Object({
  ref: Type.String({ description: 'Put this in a ticket\'s photos[].ref' }),
  url: Type.String(),
  thumbnailUrl: Type.String(),
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
      if (!file || file.fieldname !== 'file') throw new CivicLoopError('CL_ERR_MEDIA_MISSING');
      let input: Buffer;
      try {
        input = await file.toBuffer();
      } catch (error) {
        throw mapMultipartError(error);
      }
      const photo = await processPhoto(input);
      const tenantId = request.principal.tenantId;
      const key = `${tenantId}/${photo.sha256}.${photo.ext}`;
      const thumbKey = `${tenantId}/${photo.sha256}.thumb.jpg`;
      // Thumbnail first: a photo whose key exists always has its thumbnail.
      if (!(await store.exists(key))) {
        await store.put(thumbKey, photo.thumbnail, 'image/jpeg');
        await store.put(key, photo.bytes, photo.contentType);
      }
      return reply.code(201).send({
        ref: `media:${key}`,
        url: `/v1/media/${key}`,
        thumbnailUrl: `/v1/media/${thumbKey}`,
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
        summary: 'A stored photo or thumbnail; the URL (a content hash) is the capability, as with pre-signed object URLs',
        params: Type.Object({ tenantId: Type.String({ maxLength: 20 }), name: Type.String({ maxLength: 90 }) }),
        response: { 200: { description: 'the image', type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = `${request.params.tenantId}/${request.params.name}`;
      if (!KEY_PATTERN.test(key)) throw new CivicLoopError('CL_ERR_NOT_FOUND', 'No such photo.');
      assertKey(key);
      const found = await store.get(key);
      if (!found) throw new CivicLoopError('CL_ERR_NOT_FOUND', 'No such photo.');
      const ext = key.slice(key.lastIndexOf('.') + 1);
      reply.header('content-type', ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : 'image/jpeg');
      reply.header('content-length', String(found.size));
      reply.header('cache-control', 'public, max-age=31536000, immutable');
      reply.header('x-content-type-options', 'nosniff');
      return reply.send(found.stream);
    },
  );
};

function mapMultipartError(error: unknown): CivicLoopError {
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT') return new CivicLoopError('CL_ERR_PAYLOAD_TOO_LARGE', 'The photo is larger than MEDIA_MAX_BYTES allows (10 MB by default); send a smaller photo.');
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new CivicLoopError('CL_ERR_MEDIA_MISSING');
  return new CivicLoopError('CL_ERR_MEDIA_MISSING', `The upload could not be read as multipart/form-data: ${(error as Error).message}`);
}
