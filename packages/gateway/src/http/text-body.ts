import type { FastifyInstance } from 'fastify';
import { CivicLoopError } from '@civicloop/model';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * A text body in the character set its Content-Type names (UTF-8 when it names none), or a clear
 * error: never text with replacement characters. A CSV saved by Excel on a Chinese Windows is in
 * GBK; read as UTF-8 its Chinese would turn into "�" in every description and address imported.
 */
export function decodeTextBody(bytes: Uint8Array, contentType: string | undefined): string {
  const charset = CHARSET.exec(contentType ?? '')?.[1] ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    // WHATWG labels: utf-8, gb18030, gbk, gb2312 (read as GB18030, their superset), big5, utf-16le...
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new CivicLoopError(
      'CL_ERR_UNSUPPORTED_MEDIA_TYPE',
      `charset=${charset} is not a character set the gateway can read; send UTF-8, or name the body's own (gb18030 for a CSV saved by Excel in Chinese).`,
    );
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CivicLoopError(
      'CL_ERR_VALIDATION',
      charset.toLowerCase().replace('-', '') === 'utf8'
        ? 'The body is not valid UTF-8. A CSV saved by Excel in Chinese is in GBK: ' +
            'send it with Content-Type: text/csv; charset=gb18030, or save it as "CSV UTF-8".'
        : `The body is not valid ${charset}; send it in the character set its Content-Type names.`,
      { issues: [{ path: '/', message: `not valid ${charset}` }] },
    );
  }
}

/** Bodies of `mediaType` (text/csv) for the routes of one plugin, as strings decoded by decodeTextBody. */
export function acceptTextBodies(app: FastifyInstance, mediaType: string, bodyLimit: number): void {
  app.addContentTypeParser(mediaType, { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    try {
      done(null, decodeTextBody(body as Buffer, request.headers['content-type']));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
