import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { CivicLoopError } from '@civicloop/model';

// Only these names are served: nothing a request says can reach another file.
const FILES: Record<string, string> = {
  'loader.js': 'text/javascript; charset=utf-8',
  'civicloop-widget.js': 'text/javascript; charset=utf-8',
  'loader.js.map': 'application/json',
  'civicloop-widget.js.map': 'application/json',
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
  // Read once per process: every portal visit fetches these, and they change only with a build.
  const cache = new Map<string, Buffer>();
  app.get<{ Params: { file: string } }>('/widget/:file', { config: { access: { kind: 'none' } }, schema: { hide: true } }, async (request, reply) => {
    const type = FILES[request.params.file];
    if (!type) throw new CivicLoopError('CL_ERR_NOT_FOUND', `No widget file ${request.params.file}; the embed script is /widget/loader.js.`);
    let body: Buffer;
    try {
      if (!dist) throw new Error('not installed');
      body = cache.get(request.params.file) ?? (await readFile(path.join(dist, request.params.file)));
      cache.set(request.params.file, body);
    } catch {
      throw new CivicLoopError('CL_ERR_NOT_FOUND', 'The widget is not built; run npm run build (it builds packages/widget).');
    }
    return reply
      .header('content-type', type)
      .header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
};
