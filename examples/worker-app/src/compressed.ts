import type { IncomingMessage } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Built files compressed once, at their best, and kept: they change only with a new build. */
const kept = new Map<string, { br: Buffer; gzip: Buffer }>();
const KEEP_AT_MOST = 64;

/**
 * The body in the best encoding the request accepts: brotli, else gzip, else as it is. Small or
 * already-compressed bodies (PNG) go as they are. `keep` names a file whose compressed forms are
 * kept (at the highest levels); a page made per request is compressed quickly instead.
 */
export function compressed(request: IncomingMessage, body: Buffer, keep?: string): { bytes: Buffer; encoding?: 'br' | 'gzip' } {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  const br = /\bbr\b/.test(accepts);
  const gzip = /\bgzip\b/.test(accepts);
  if ((!br && !gzip) || body.length < 1024 || body.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))) return { bytes: body };
  if (keep) {
    let forms = kept.get(keep);
    if (!forms) {
      forms = { br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }), gzip: gzipSync(body, { level: 9 }) };
      if (kept.size >= KEEP_AT_MOST) kept.delete(kept.keys().next().value!);
      kept.set(keep, forms);
    }
    return br ? { bytes: forms.br, encoding: 'br' } : { bytes: forms.gzip, encoding: 'gzip' };
  }
  return br
    ? { bytes: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }), encoding: 'br' }
    : { bytes: gzipSync(body, { level: 6 }), encoding: 'gzip' };
}
