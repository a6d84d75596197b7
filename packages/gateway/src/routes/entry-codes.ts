import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import QRCode from 'qrcode';
import { CRS_NAMES, CivicLoopError, Latitude, Longitude, StringEnum } from '@civicloop/model';
import { MANAGERS_AND_SERVERS, type Services } from '../core/services.js';
import { errorResponses, security } from './shared-schemas.js';

/**
 * The address a QR entry code opens: the page that embeds the report widget, with the place in
 * its query (`cl-place=lat,lon[,crs]` and `cl-place-name`), which the widget reads to start the
 * report there instead of asking the device where it is.
 */
export function entryUrl(page: string, place: { lat: number; lon: number; crs?: string | undefined; name: string }): string {
  const url = new URL(page);
  url.searchParams.set('cl-place', [place.lat, place.lon, ...(place.crs ? [place.crs] : [])].join(','));
  url.searchParams.set('cl-place-name', place.name);
  return url.href;
}

const escapeXml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * Printable QR codes that open the report with a place preset (an estate's gate, a building's
 * door, a bin, a bus stop), as SVG or PNG. Only for pages on the tenant's allowed origins: the
 * gateway does not print codes that send residents anywhere else.
 */
export const entryCodeRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/v1/entry-codes/report.:format',
    {
      config: { access: { kind: 'roles', roles: [...MANAGERS_AND_SERVERS, 'partner'] } },
      schema: {
        tags: ['entry codes'],
        summary: 'A QR code (SVG or PNG) that opens the report widget on a page with a place preset',
        security,
        params: Type.Object({ format: StringEnum(['svg', 'png'] as const) }),
        querystring: Type.Object(
          {
            page: Type.String({
              minLength: 8,
              maxLength: 500,
              description: "the page that embeds the widget: an absolute URL on one of the tenant's allowedOrigins",
            }),
            lat: Latitude(),
            lon: Longitude(),
            crs: Type.Optional(StringEnum(CRS_NAMES, { description: "the point's coordinate system (kept in the code; the widget sends it with the report)" })),
            name: Type.String({
              minLength: 1,
              maxLength: 100,
              description: 'what the place is called, shown as the report\'s address: "Building 3, Sunny Gardens"',
            }),
            size: Type.Optional(Type.Integer({ minimum: 128, maximum: 2048, default: 512, description: 'PNG width and height in pixels' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: { description: 'image/svg+xml or image/png', type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { page, lat, lon, crs, name, size } = request.query;
      let origin: string;
      try {
        origin = new URL(page).origin;
      } catch {
        throw new CivicLoopError('CL_ERR_VALIDATION', 'page must be an absolute URL, such as https://portal.example.com/report.', {
          issues: [{ path: '/page', message: 'not an absolute URL' }],
        });
      }
      const tenant = (await services.tenants.context(request.principal.tenantId))?.tenant;
      if (!tenant?.policy.allowedOrigins.includes(origin)) {
        throw new CivicLoopError(
          'CL_ERR_ORIGIN_NOT_ALLOWED',
          `The page's origin ${origin} is not among this tenant's allowed origins; add it with PATCH /v1/tenant/policy { allowedOrigins } first.`,
        );
      }
      const text = entryUrl(page, { lat, lon, crs, name });
      reply.header('cache-control', 'private, max-age=300');
      if (request.params.format === 'png') {
        return reply.type('image/png').send(await QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: size ?? 512 }));
      }
      const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      // Named for screen readers and for whoever prints a sheet of them.
      return reply
        .type('image/svg+xml; charset=utf-8')
        .send(svg.replace(/<svg([^>]*)>/, `<svg$1 role="img" aria-label="${escapeXml(name)}"><title>${escapeXml(name)}</title>`));
    },
  );
};
