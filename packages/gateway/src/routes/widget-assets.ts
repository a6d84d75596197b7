import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { CivicLoopError } from '@civicloop/model';
import { chooseCoding, encodeAsset, notModified, type EncodedAsset } from '../http/encoded-asset.js';

// Only these names are served: nothing a request says can reach another file.
const FILES: Record<string, string> = {
  'loader.js': 'text/javascript; charset=utf-8',
  'civicloop-widget.js': 'text/javascript; charset=utf-8',
  'loader.js.map': 'application/json',
  'civicloop-widget.js.map': 'application/json',
  // The resident's small map (Leaflet), imported by the widget only when map-tiles is set.
  'civicloop-pin-map.js': 'text/javascript; charset=utf-8',
  'civicloop-pin-map.js.map': 'application/json',
};

function widgetDist(): string | undefined {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('@civicloop/widget/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * GET /widget/{file}: the report widget for the one-line embed, served by the gateway itself so a
 * portal needs nothing but a script tag. The module is fetched in CORS mode by browsers, hence
 * the open Access-Control-Allow-Origin: it is public code, not data.
 */
export const widgetAssetRoutes: FastifyPluginAsync = async (app) => {
  const dist = widgetDist();
  // Read and compressed once per process: every portal visit fetches these, and they change only with a build.
  const cache = new Map<string, EncodedAsset>();
  app.get<{ Params: { file: string } }>('/widget/:file', { config: { access: { kind: 'none' } }, schema: { hide: true } }, async (request, reply) => {
    const type = FILES[request.params.file];
    if (!type) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No widget file ${request.params.file}; the embed script is /widget/loader.js.`);
    let asset = cache.get(request.params.file);
    if (!asset) {
      try {
        if (!dist) throw new Error('not installed');
        asset = encodeAsset(await readFile(path.join(dist, request.params.file)));
      } catch {
        throw new CivicLoopError('CL_ERR_NOT_FOUND', 'The widget is not built; run npm run build (it builds packages/widget).');
      }
      cache.set(request.params.file, asset);
    }
    reply
      .header('cache-control', 'public, max-age=300')
      .header('etag', asset.etag)
      .header('vary', 'Accept-Encoding')
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff');
    // After five minutes a browser asks again with If-None-Match; unchanged, it gets no body.
    if (notModified(request.headers['if-none-match'], asset.etag)) return reply.code(304).send();
    const coding = chooseCoding(request.headers['accept-encoding']);
    if (coding !== 'identity') reply.header('content-encoding', coding);
    return reply.header('content-type', type).send(asset[coding]);
  });
};
