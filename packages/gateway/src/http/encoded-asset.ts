import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** A static file prepared once: its bytes as they are, gzipped and brotli-compressed, and its ETag. */
export interface EncodedAsset {
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
  /** Strong validator: the same bytes give the same tag across restarts and gateways. */
  etag: string;
}

export function encodeAsset(bytes: Buffer): EncodedAsset {
  return {
    identity: bytes,
    gzip: gzipSync(bytes, { level: 9 }),
    br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
  };
}

type Coding = 'br' | 'gzip' | 'identity';

/**
 * The coding to answer with, from an Accept-Encoding header (RFC 9110 12.5.3): the smallest one
 * the client accepts with a non-zero weight (brotli, then gzip), else the bytes as they are.
 */
export function chooseCoding(acceptEncoding: string | undefined): Coding {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const accepts = (coding: string) => (weights.get(coding) ?? weights.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return 'identity';
}

/** Whether an If-None-Match header names this ETag (or `*`), weak comparison as RFC 9110 asks for GET. */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}
